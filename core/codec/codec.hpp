// SPDX-License-Identifier: Apache-2.0
// The whole MQTT 3.1 / 3.1.1 / 5.0 codec: framing, per-packet decoders and encoders,
// properties and the data-representation helpers. See docs/codec.md.
#pragma once

#include "core/codec/ack.hpp"
#include "core/codec/auth.hpp"
#include "core/codec/connack.hpp"
#include "core/codec/connect.hpp"
#include "core/codec/disconnect.hpp"
#include "core/codec/framer.hpp"
#include "core/codec/packet.hpp"
#include "core/codec/ping.hpp"
#include "core/codec/properties.hpp"
#include "core/codec/publish.hpp"
#include "core/codec/reader.hpp"
#include "core/codec/reason_code.hpp"
#include "core/codec/suback.hpp"
#include "core/codec/subscribe.hpp"
#include "core/codec/types.hpp"
#include "core/codec/unsuback.hpp"
#include "core/codec/unsubscribe.hpp"
#include "core/codec/utf8.hpp"
#include "core/codec/varint.hpp"
#include "core/codec/writer.hpp"
