// SPDX-License-Identifier: Apache-2.0
// Session resumption on a TLS listener: a client that comes back with the ticket or the
// session id of an earlier connection gets an abbreviated handshake; the session cache
// keeps at most sessionCacheSize sessions; a ticket is refused once its lifetime is over.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "port/tls/tls_server_context.hpp"
#include "tests/port/tls/memory_client.hpp"
#include "tests/port/tls/test_pki.hpp"

namespace midge::port {
namespace {

using testing::makeServerContext;
using testing::MemoryClientOptions;
using testing::MemoryTlsClient;
using testing::runHandshake;
using testing::TestPki;

// An mbedtls_ssl_session the test owns.
struct SavedSession {
  SavedSession() { mbedtls_ssl_session_init(&session); }
  ~SavedSession() { mbedtls_ssl_session_free(&session); }
  SavedSession(const SavedSession&) = delete;
  SavedSession& operator=(const SavedSession&) = delete;
  mbedtls_ssl_session session;
};

class TlsResumptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (*testing::opensslExecutable() == '\0') GTEST_SKIP() << "openssl not installed";
  }
  const TestPki& pki() const { return TestPki::instance(); }

  TlsOptions serverOptions(std::uint32_t cacheSize, bool tickets) const {
    TlsOptions options;
    options.certFile = pki().path("server.crt");
    options.keyFile = pki().path("server.key");
    options.sessionCacheSize = cacheSize;
    options.sessionTickets = tickets;
    return options;
  }

  // One connection: returns whether the server resumed, and saves the session in `save`.
  bool connect(TlsServerContext& context, bool tickets, const SavedSession* resume,
               SavedSession* save = nullptr) const {
    MemoryClientOptions options;
    options.caFile = pki().path("ca.crt");
    options.sessionTickets = tickets;
    options.resume = resume != nullptr ? &resume->session : nullptr;
    MemoryTlsClient client(options);
    auto server = context.createSession();
    const auto outcome = runHandshake(client, *server);
    EXPECT_EQ(outcome.clientResult, 0);
    EXPECT_TRUE(outcome.serverOk) << server->error();
    EXPECT_TRUE(server->handshakeDone());
    if (save != nullptr) client.saveSession(save->session);
    return server->resumed();
  }
};

TEST_F(TlsResumptionTest, TicketResumesTheSession) {
  auto context = makeServerContext(serverOptions(0, true));
  SavedSession first;
  EXPECT_FALSE(connect(*context, true, nullptr, &first));
  EXPECT_GT(first.session.ticket_len, 0u) << "the server issued no ticket";
  EXPECT_TRUE(connect(*context, true, &first));
  EXPECT_TRUE(connect(*context, true, &first)) << "a ticket can be used again";
}

TEST_F(TlsResumptionTest, SessionIdResumesFromTheCacheWhenTheClientHasNoTickets) {
  auto context = makeServerContext(serverOptions(10, true));
  SavedSession first;
  EXPECT_FALSE(connect(*context, false, nullptr, &first));
  EXPECT_EQ(first.session.ticket_len, 0u);
  EXPECT_TRUE(connect(*context, false, &first));
}

TEST_F(TlsResumptionTest, NothingResumesWithCacheAndTicketsOff) {
  auto context = makeServerContext(serverOptions(0, false));
  SavedSession withTicket, withId;
  EXPECT_FALSE(connect(*context, true, nullptr, &withTicket));
  EXPECT_EQ(withTicket.session.ticket_len, 0u);
  EXPECT_FALSE(connect(*context, true, &withTicket));
  EXPECT_FALSE(connect(*context, false, nullptr, &withId));
  EXPECT_FALSE(connect(*context, false, &withId));
}

TEST_F(TlsResumptionTest, CacheHoldsAtMostItsSizeAndDropsTheOldest) {
  auto context = makeServerContext(serverOptions(2, false));
  SavedSession a, b, c;
  EXPECT_FALSE(connect(*context, false, nullptr, &a));
  EXPECT_FALSE(connect(*context, false, nullptr, &b));
  EXPECT_FALSE(connect(*context, false, nullptr, &c));  // pushes a out
  EXPECT_TRUE(connect(*context, false, &c));
  EXPECT_TRUE(connect(*context, false, &b));
  EXPECT_FALSE(connect(*context, false, &a)) << "a third session was kept in a cache of 2";
}

TEST_F(TlsResumptionTest, SessionsSurviveACertificateReload) {
  auto context = makeServerContext(serverOptions(10, true));
  SavedSession withTicket, withId;
  EXPECT_FALSE(connect(*context, true, nullptr, &withTicket));
  EXPECT_FALSE(connect(*context, false, nullptr, &withId));
  std::string error;
  ASSERT_TRUE(context->reload(error)) << error;
  EXPECT_TRUE(connect(*context, true, &withTicket));
  EXPECT_TRUE(connect(*context, false, &withId));
}

TEST_F(TlsResumptionTest, ChangedResumptionSettingsStartAfresh) {
  auto context = makeServerContext(serverOptions(10, true));
  SavedSession withTicket;
  EXPECT_FALSE(connect(*context, true, nullptr, &withTicket));
  std::string error;
  TlsOptions changed = serverOptions(10, true);
  changed.sessionLifetimeSeconds = 3600;
  ASSERT_TRUE(context->reload(changed, error)) << error;
  // New ticket keys: the old ticket cannot be opened any more.
  EXPECT_FALSE(connect(*context, true, &withTicket));
}

// mbedTLS counts a ticket's age in whole seconds from the session's start and makes a new
// ticket key every lifetime: with a lifetime of 1 s the ticket must stop working within a
// few seconds. Polled against a deadline rather than slept for.
TEST_F(TlsResumptionTest, TicketIsRefusedOnceItsLifetimeIsOver) {
  TlsOptions options = serverOptions(0, true);
  options.sessionLifetimeSeconds = 1;
  auto context = makeServerContext(options);
  SavedSession first;
  EXPECT_FALSE(connect(*context, true, nullptr, &first));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool refused = false;
  while (!refused && std::chrono::steady_clock::now() < deadline) {
    refused = !connect(*context, true, &first);
    if (!refused) std::this_thread::sleep_for(std::chrono::milliseconds(100));  // poll interval
  }
  EXPECT_TRUE(refused) << "a ticket with a 1 s lifetime still resumed after 10 s";
}

}  // namespace
}  // namespace midge::port
