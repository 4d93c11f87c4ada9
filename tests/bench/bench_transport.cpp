// SPDX-License-Identifier: Apache-2.0
#include "tests/bench/bench_transport.hpp"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/ssl.h>

#include <climits>
#include <cstring>
#include <string_view>

namespace midge::bench {
namespace {

constexpr std::string_view kRequest =
    "GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: bWlkZ2UtYmVuY2gta2V5MQ==\r\nSec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Protocol: mqtt\r\n\r\n";

// WebSocket framing over a byte stream (the socket, or TLS's plaintext).
class WebSocketFraming {
 public:
  void request(std::vector<std::uint8_t>& out) const {
    out.insert(out.end(), kRequest.begin(), kRequest.end());
  }

  bool receive(Bytes in, std::vector<std::uint8_t>& mqttOut, std::string& error) {
    std::size_t offset = 0;
    if (!upgraded_) {
      response_.append(reinterpret_cast<const char*>(in.data()), in.size());
      const std::size_t end = response_.find("\r\n\r\n");
      if (end == std::string::npos) {
        if (response_.size() > 8192) return fail(error, "oversized upgrade response");
        return true;
      }
      if (response_.compare(0, 12, "HTTP/1.1 101") != 0) {
        return fail(error, "upgrade refused: " + response_.substr(0, response_.find("\r\n")));
      }
      upgraded_ = true;
      offset = in.size() - (response_.size() - (end + 4));
      response_.clear();
    }
    while (offset < in.size()) {
      if (payloadLeft_ > 0) {
        const std::size_t take =
            payloadLeft_ < in.size() - offset ? static_cast<std::size_t>(payloadLeft_)
                                              : in.size() - offset;
        if (opcode_ == 0x2 || opcode_ == 0x0) {
          mqttOut.insert(mqttOut.end(), in.data() + offset, in.data() + offset + take);
        }
        offset += take;
        payloadLeft_ -= take;
        continue;
      }
      header_[headerSize_++] = in[offset++];
      if (headerSize_ < 2) continue;
      const std::uint8_t length7 = header_[1] & 0x7F;
      const std::size_t needed = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0);
      if (headerSize_ < needed) continue;
      std::uint64_t length = length7;
      if (length7 == 126) length = (std::uint64_t{header_[2]} << 8) | header_[3];
      if (length7 == 127) {
        length = 0;
        for (std::size_t i = 2; i < 10; ++i) length = (length << 8) | header_[i];
      }
      opcode_ = header_[0] & 0x0F;
      if (opcode_ == 0x8) return fail(error, "broker closed the WebSocket");
      payloadLeft_ = length;
      headerSize_ = 0;
    }
    return true;
  }

  // One masked binary frame. The key changes per frame as RFC 6455 asks; xorshift is
  // enough for a benchmark, whose peer cannot tell.
  void frame(Bytes mqtt, std::vector<std::uint8_t>& out) {
    out.push_back(0x82);
    const std::size_t n = mqtt.size();
    if (n < 126) {
      out.push_back(static_cast<std::uint8_t>(0x80 | n));
    } else if (n <= 0xFFFF) {
      out.push_back(0x80 | 126);
      out.push_back(static_cast<std::uint8_t>(n >> 8));
      out.push_back(static_cast<std::uint8_t>(n));
    } else {
      out.push_back(0x80 | 127);
      for (int shift = 56; shift >= 0; shift -= 8) {
        out.push_back(static_cast<std::uint8_t>(static_cast<std::uint64_t>(n) >> shift));
      }
    }
    seed_ ^= seed_ << 13;
    seed_ ^= seed_ >> 17;
    seed_ ^= seed_ << 5;
    std::uint8_t key[4];
    std::memcpy(key, &seed_, sizeof key);
    out.insert(out.end(), key, key + 4);
    const std::size_t start = out.size();
    out.insert(out.end(), mqtt.begin(), mqtt.end());
    for (std::size_t i = 0; i < n; ++i) out[start + i] ^= key[i & 3];
  }

  bool upgraded() const { return upgraded_; }

 private:
  static bool fail(std::string& error, std::string why) {
    error = std::move(why);
    return false;
  }

  std::string response_;
  bool upgraded_ = false;
  std::uint8_t header_[10] = {};
  std::size_t headerSize_ = 0;
  std::uint64_t payloadLeft_ = 0;
  std::uint8_t opcode_ = 0;
  std::uint32_t seed_ = 0x9E3779B9u;
};

class PlainWebSocket final : public WireTransport {
 public:
  bool start(std::vector<std::uint8_t>& wireOut, std::string&) override {
    framing_.request(wireOut);
    return true;
  }
  bool receive(Bytes wireIn, std::vector<std::uint8_t>& mqttOut, std::vector<std::uint8_t>&,
               std::string& error) override {
    return framing_.receive(wireIn, mqttOut, error);
  }
  bool ready() const override { return framing_.upgraded(); }
  bool send(Bytes mqtt, std::vector<std::uint8_t>& wireOut, std::string&) override {
    framing_.frame(mqtt, wireOut);
    return true;
  }

 private:
  WebSocketFraming framing_;
};

// mbedTLS client over in-memory BIO callbacks, as port/tls does on the server side.
class TlsWebSocket final : public WireTransport {
 public:
  TlsWebSocket() {
    mbedtls_ssl_init(&ssl_);
    mbedtls_ssl_config_init(&config_);
    mbedtls_entropy_init(&entropy_);
    mbedtls_ctr_drbg_init(&drbg_);
  }
  ~TlsWebSocket() override {
    mbedtls_ssl_free(&ssl_);
    mbedtls_ssl_config_free(&config_);
    mbedtls_ctr_drbg_free(&drbg_);
    mbedtls_entropy_free(&entropy_);
  }
  TlsWebSocket(const TlsWebSocket&) = delete;
  TlsWebSocket& operator=(const TlsWebSocket&) = delete;

  bool start(std::vector<std::uint8_t>& wireOut, std::string& error) override {
    if (mbedtls_ctr_drbg_seed(&drbg_, mbedtls_entropy_func, &entropy_, nullptr, 0) != 0 ||
        mbedtls_ssl_config_defaults(&config_, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT) != 0) {
      error = "cannot set up TLS";
      return false;
    }
    mbedtls_ssl_conf_authmode(&config_, MBEDTLS_SSL_VERIFY_NONE);
    mbedtls_ssl_conf_rng(&config_, mbedtls_ctr_drbg_random, &drbg_);
    if (mbedtls_ssl_setup(&ssl_, &config_) != 0) {
      error = "cannot start a TLS session";
      return false;
    }
    mbedtls_ssl_set_bio(&ssl_, this, &TlsWebSocket::toWire, &TlsWebSocket::fromWire, nullptr);
    return step(Bytes(), nullptr, wireOut, error);
  }

  bool receive(Bytes wireIn, std::vector<std::uint8_t>& mqttOut,
               std::vector<std::uint8_t>& wireOut, std::string& error) override {
    return step(wireIn, &mqttOut, wireOut, error);
  }

  bool ready() const override { return framing_.upgraded(); }

  bool send(Bytes mqtt, std::vector<std::uint8_t>& wireOut, std::string& error) override {
    scratch_.clear();
    framing_.frame(mqtt, scratch_);
    return write(Bytes(scratch_), wireOut, error);
  }

 private:
  static int toWire(void* self, const unsigned char* data, std::size_t length) {
    auto* t = static_cast<TlsWebSocket*>(self);
    if (t->sink_ == nullptr) return MBEDTLS_ERR_SSL_WANT_WRITE;
    const std::size_t n = length > INT_MAX ? static_cast<std::size_t>(INT_MAX) : length;
    t->sink_->insert(t->sink_->end(), data, data + n);
    return static_cast<int>(n);
  }
  static int fromWire(void* self, unsigned char* data, std::size_t length) {
    auto* t = static_cast<TlsWebSocket*>(self);
    if (t->input_.empty()) return MBEDTLS_ERR_SSL_WANT_READ;
    std::size_t n = length < t->input_.size() ? length : t->input_.size();
    if (n > INT_MAX) n = INT_MAX;
    std::memcpy(data, t->input_.data(), n);
    t->input_ = t->input_.subspan(n);
    return static_cast<int>(n);
  }

  bool write(Bytes plain, std::vector<std::uint8_t>& wireOut, std::string& error) {
    sink_ = &wireOut;
    std::size_t offset = 0;
    while (offset < plain.size()) {
      const int ret = mbedtls_ssl_write(&ssl_, plain.data() + offset, plain.size() - offset);
      if (ret <= 0) {
        sink_ = nullptr;
        error = "TLS write failed";
        return false;
      }
      offset += static_cast<std::size_t>(ret);
    }
    sink_ = nullptr;
    return true;
  }

  bool step(Bytes wireIn, std::vector<std::uint8_t>* mqttOut, std::vector<std::uint8_t>& wireOut,
            std::string& error) {
    input_ = wireIn;
    sink_ = &wireOut;
    bool ok = true;
    if (!handshakeDone_) {
      const int ret = mbedtls_ssl_handshake(&ssl_);
      if (ret == 0) {
        handshakeDone_ = true;
        scratch_.clear();
        framing_.request(scratch_);
        sink_ = nullptr;
        ok = write(Bytes(scratch_), wireOut, error);
        sink_ = &wireOut;
      } else if (ret != MBEDTLS_ERR_SSL_WANT_READ && ret != MBEDTLS_ERR_SSL_WANT_WRITE) {
        error = "TLS handshake failed (" + std::to_string(ret) + ")";
        ok = false;
      }
    }
    while (ok && handshakeDone_ && mqttOut != nullptr) {
      unsigned char chunk[16384];
      const int ret = mbedtls_ssl_read(&ssl_, chunk, sizeof chunk);
      if (ret > 0) {
        ok = framing_.receive(Bytes(chunk, static_cast<std::size_t>(ret)), *mqttOut, error);
        continue;
      }
      if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) break;
      error = "TLS read failed (" + std::to_string(ret) + ")";
      ok = false;
    }
    input_ = Bytes();
    sink_ = nullptr;
    return ok;
  }

  mbedtls_ssl_context ssl_;
  mbedtls_ssl_config config_;
  mbedtls_entropy_context entropy_;
  mbedtls_ctr_drbg_context drbg_;
  Bytes input_;
  std::vector<std::uint8_t>* sink_ = nullptr;
  std::vector<std::uint8_t> scratch_;
  bool handshakeDone_ = false;
  WebSocketFraming framing_;
};

}  // namespace

std::unique_ptr<WireTransport> WireTransport::create(Transport kind) {
  switch (kind) {
    case Transport::Tcp: return nullptr;
    case Transport::WebSocket: return std::make_unique<PlainWebSocket>();
    case Transport::WebSocketTls: return std::make_unique<TlsWebSocket>();
  }
  return nullptr;
}

}  // namespace midge::bench
