// SPDX-License-Identifier: Apache-2.0
// Private to port/net: the C callbacks handed to libevent. A nested struct of EventLoop,
// so they reach its private members without making those public.
#pragma once

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include <string>

#include "port/net/event_loop.hpp"

namespace midge::port {

struct EventLoop::Callbacks {
  static std::string describe(const Socket& c);  // "connection 7 from [::1]:5000"
  static void onTurn(evutil_socket_t, short, void* self);
  static void onDeferred(evutil_socket_t, short, void* self);
  static void onTick(evutil_socket_t, short, void* self);
  static void onSignal(evutil_socket_t signal, short, void* self);
  static void onShutdownDeadline(evutil_socket_t, short, void* self);
  static void onAcceptRetry(evutil_socket_t, short, void* listener);
  static void onAcceptError(evconnlistener* socket, void* listener);
  static void onAccept(evconnlistener* socket, evutil_socket_t fd, sockaddr* address,
                       int length, void* listener);
  static void onIo(evutil_socket_t, short what, void* connection);
  static void onSocketTimer(evutil_socket_t, short, void* connection);
};

}  // namespace midge::port
