// SPDX-License-Identifier: Apache-2.0
// Rules that span lines: the file format, Mosquitto's listener and security scoping,
// warnings for accepted-but-ignored keywords, and command line overrides.
#include <gtest/gtest.h>

#include <string>

#include "tests/broker/config_test_support.hpp"

namespace midge::config::test {
namespace {

TEST(ConfigFormat, CommentsBlankLinesWhitespaceAndCrlf) {
  const Parsed parsed = parse(
      "# a comment\r\n"
      "\r\n"
      "   \t\r\n"
      "   # an indented comment\r\n"
      "listener 1884\t127.0.0.1   \r\n"
      "max_inflight_messages 7 # seven\r\n"
      "\tmax_queued_messages\t9\t\r\n"
      "password_file /etc/midge/pass words\r\n");
  ASSERT_TRUE(parsed.ok) << parsed.allMessages();
  ASSERT_EQ(parsed.config.listeners.size(), 1u);
  EXPECT_EQ(parsed.config.listeners[0].port, 1884);
  EXPECT_EQ(parsed.config.listeners[0].bindAddress, "127.0.0.1");
  EXPECT_EQ(parsed.config.maxInflightMessages, 7);
  EXPECT_EQ(parsed.config.maxQueuedMessages, 9u);
  // String values run to the end of the line and may contain spaces (as in Mosquitto).
  EXPECT_EQ(parsed.config.security.passwordFile, "/etc/midge/pass words");
  EXPECT_EQ(parsed.warningCount(), 0) << parsed.allMessages();
}

TEST(ConfigFormat, ByteOrderMarkAndMissingFinalNewline) {
  const Parsed parsed = parse("\xEF\xBB\xBFlistener 1885\nsys_interval 3");
  ASSERT_TRUE(parsed.ok) << parsed.allMessages();
  EXPECT_EQ(parsed.config.listeners.at(0).port, 1885);
  EXPECT_EQ(parsed.config.sysIntervalSeconds, 3u);
}

TEST(ConfigFormat, EveryErrorIsReportedNotOnlyTheFirst) {
  const Parsed parsed = parse("listener 1883\nmax_qos 9\nbogus 1\nsys_interval x\n");
  EXPECT_FALSE(parsed.ok);
  std::vector<int> lines;
  for (const auto& d : parsed.diags) {
    if (d.fatal) lines.push_back(d.line);
  }
  EXPECT_EQ(lines, (std::vector<int>{2, 3, 4}));
}

TEST(ConfigFormat, StringValueWithCommentIsKeptButWarned) {
  const Parsed parsed = parse("listener 1883\npid_file /run/midge.pid # pid\n");
  ASSERT_TRUE(parsed.ok);
  EXPECT_EQ(parsed.config.pidFile, "/run/midge.pid # pid");
  EXPECT_TRUE(parsed.hasWarningContaining("pid_file"));
}

TEST(ConfigFormat, DiagnosticTextNamesFileAndLine) {
  const Parsed parsed = parse("listener 1883\nnot_a_keyword yes\n", "/etc/midge/midge.conf");
  ASSERT_NE(parsed.firstFatal(), nullptr);
  EXPECT_EQ(toString(*parsed.firstFatal()),
            "/etc/midge/midge.conf:2: error: unknown configuration keyword 'not_a_keyword'");
}

TEST(LocalOnly, EmptyFileListensOnLoopbackAndAllowsAnonymous) {
  const Parsed parsed = parse("");
  ASSERT_TRUE(parsed.ok) << parsed.allMessages();
  const Config& c = parsed.config;
  EXPECT_TRUE(c.localOnly);
  ASSERT_EQ(c.listeners.size(), 2u);
  EXPECT_EQ(c.listeners[0].bindAddress, "127.0.0.1");
  EXPECT_EQ(c.listeners[1].bindAddress, "::1");
  for (const auto& listener : c.listeners) {
    EXPECT_EQ(listener.port, 1883);
    EXPECT_TRUE(listener.implicitLoopback);
    EXPECT_TRUE(listener.security.allowAnonymous);
  }
  EXPECT_TRUE(parsed.hasWarningContaining("loopback"));
}

TEST(LocalOnly, ExplicitAllowAnonymousFalseIsKept) {
  const Parsed parsed = parse("allow_anonymous false\npassword_file /p\n");
  ASSERT_TRUE(parsed.ok);
  EXPECT_TRUE(parsed.config.localOnly);
  EXPECT_FALSE(parsed.config.listeners.at(0).security.allowAnonymous);
  EXPECT_EQ(parsed.config.listeners.at(0).security.passwordFile, "/p");
}

TEST(LocalOnly, SocketDomainLimitsTheLoopbackListeners) {
  const Parsed parsed = parse("socket_domain ipv4\n");
  ASSERT_TRUE(parsed.ok);
  ASSERT_EQ(parsed.config.listeners.size(), 1u);
  EXPECT_EQ(parsed.config.listeners[0].bindAddress, "127.0.0.1");
}

TEST(Listeners, AnonymousIsRefusedByDefaultOnceAListenerExists) {
  const Parsed parsed = parse("listener 1883\n");
  ASSERT_TRUE(parsed.ok);
  EXPECT_FALSE(parsed.config.localOnly);
  EXPECT_FALSE(parsed.config.listeners.at(0).security.allowAnonymous);
  EXPECT_FALSE(parsed.config.listeners.at(0).implicitLoopback);
  EXPECT_EQ(parsed.warningCount(), 0) << parsed.allMessages();
}

TEST(Listeners, PerListenerKeywordsApplyToTheMostRecentListener) {
  const Parsed parsed = parse(
      "listener 1883 127.0.0.1\n"
      "max_connections 10\n"
      "listener 1884\n"
      "max_connections 20\n"
      "max_qos 1\n");
  ASSERT_TRUE(parsed.ok);
  ASSERT_EQ(parsed.config.listeners.size(), 2u);
  EXPECT_EQ(parsed.config.listeners[0].maxConnections, 10);
  EXPECT_EQ(parsed.config.listeners[0].maxQos, 2);
  EXPECT_EQ(parsed.config.listeners[1].maxConnections, 20);
  EXPECT_EQ(parsed.config.listeners[1].maxQos, 1);
  EXPECT_EQ(parsed.config.listeners[1].definedAt, "test.conf:3");
}

TEST(Listeners, SettingsBeforeTheFirstListenerOpenTheDefaultListenerToo) {
  const Parsed parsed = parse("max_connections 5\nlistener 8883\n");
  ASSERT_TRUE(parsed.ok);
  ASSERT_EQ(parsed.config.listeners.size(), 2u);
  EXPECT_EQ(parsed.config.listeners[0].port, 8883);
  EXPECT_EQ(parsed.config.listeners[0].maxConnections, -1);
  EXPECT_EQ(parsed.config.listeners[1].port, 1883);
  EXPECT_EQ(parsed.config.listeners[1].maxConnections, 5);
  EXPECT_TRUE(parsed.hasWarningContaining("default listener"));
}

TEST(Listeners, DeprecatedPortAndBindAddressFormTheDefaultListener) {
  const Parsed parsed = parse("port 1990\nbind_address 10.1.2.3\nlistener 1991\n");
  ASSERT_TRUE(parsed.ok);
  ASSERT_EQ(parsed.config.listeners.size(), 2u);
  EXPECT_EQ(parsed.config.listeners[1].port, 1990);
  EXPECT_EQ(parsed.config.listeners[1].bindAddress, "10.1.2.3");
  EXPECT_TRUE(parsed.hasWarningContaining("deprecated"));
}

TEST(Listeners, SamePortOnDifferentAddressesIsAllowed) {
  const Parsed parsed = parse("listener 1883 127.0.0.1\nlistener 1883 10.0.0.1\n");
  EXPECT_TRUE(parsed.ok) << parsed.allMessages();
}

TEST(Security, GlobalSettingsAreCopiedToEveryListener) {
  const Parsed parsed = parse(
      "listener 1883\nlistener 8883\npassword_file /etc/p\nallow_anonymous false\n");
  ASSERT_TRUE(parsed.ok);
  for (const auto& listener : parsed.config.listeners) {
    EXPECT_EQ(listener.security.passwordFile, "/etc/p");
    EXPECT_FALSE(listener.security.allowAnonymous);
  }
}

TEST(Security, PerListenerSettingsKeepListenersApart) {
  const Parsed parsed = parse(
      "per_listener_settings true\n"
      "listener 1883 127.0.0.1\n"
      "allow_anonymous true\n"
      "listener 8883\n"
      "password_file /etc/p\n"
      "acl_file /etc/acl\n");
  ASSERT_TRUE(parsed.ok) << parsed.allMessages();
  const auto& local = parsed.config.listeners.at(0).security;
  const auto& remote = parsed.config.listeners.at(1).security;
  EXPECT_TRUE(local.allowAnonymous);
  EXPECT_EQ(local.passwordFile, "");
  EXPECT_FALSE(remote.allowAnonymous);
  EXPECT_EQ(remote.passwordFile, "/etc/p");
  EXPECT_EQ(remote.aclFile, "/etc/acl");
  EXPECT_EQ(parsed.config.security.passwordFile, "");
}

TEST(Security, SamePasswordFileOnTwoListenersIsNotADuplicate) {
  const Parsed parsed = parse(
      "per_listener_settings true\nlistener 1\npassword_file /p\nlistener 2\npassword_file /p\n");
  EXPECT_TRUE(parsed.ok) << parsed.allMessages();
}

TEST(Security, PerListenerSettingsCannotBeTurnedOffAgain) {
  const Parsed parsed = parse(
      "per_listener_settings true\nper_listener_settings false\nlistener 1883\n"
      "password_file /p\n");
  ASSERT_TRUE(parsed.ok);
  EXPECT_TRUE(parsed.config.perListenerSettings);
  EXPECT_EQ(parsed.config.listeners.at(0).security.passwordFile, "/p");
}

TEST(Tls, OptionsWithoutCertificateLeaveAPlainListenerAndWarn) {
  const Parsed parsed = parse("listener 1883\ncafile /ca.pem\n");
  ASSERT_TRUE(parsed.ok);
  EXPECT_FALSE(parsed.config.listeners.at(0).tls.has_value());
  EXPECT_TRUE(parsed.hasWarningContaining("plain MQTT"));
}

TEST(Tls, CertificateOnOneListenerOnly) {
  const Parsed parsed = parse(
      "listener 1883 127.0.0.1\nlistener 8883\ncertfile /c\nkeyfile /k\ntls_version tlsv1.3\n");
  ASSERT_TRUE(parsed.ok);
  EXPECT_FALSE(parsed.config.listeners.at(0).tls.has_value());
  ASSERT_TRUE(parsed.config.listeners.at(1).tls.has_value());
  EXPECT_EQ(parsed.config.listeners.at(1).tls->minVersion, TlsVersion::V1_3);
}

TEST(Tls, IdentityAsUsernameWithoutRequiredCertificateWarns) {
  const Parsed parsed =
      parse("listener 8883\ncertfile /c\nkeyfile /k\nuse_identity_as_username true\n");
  ASSERT_TRUE(parsed.ok);
  EXPECT_TRUE(parsed.hasWarningContaining("require_certificate"));
}

TEST(Ignored, MosquittoKeywordsMidgeDoesNotNeedLoadWithAWarningEach) {
  const char* lines[] = {
      "allow_duplicate_messages false", "autosave_on_changes true",
      "ciphers_tls1.3 TLS_AES_128_GCM_SHA256", "dhparamfile /dh.pem",
      "websockets_log_level 0", "retry_interval 20",
      "log_dest dlt",
  };
  for (const char* line : lines) {
    const Parsed parsed = parse(std::string("listener 1883\n") + line + "\n");
    EXPECT_TRUE(parsed.ok) << line << "\n" << parsed.allMessages();
    EXPECT_EQ(parsed.warningCount(), 1) << line << "\n" << parsed.allMessages();
  }
}

// Midge already does what any value of these asks for, so a Mosquitto file that sets them
// loads without noise; a value Mosquitto would refuse is still refused.
TEST(Ignored, KeywordsMidgeAlreadyHonoursLoadSilentlyButCheckTheirValue) {
  const char* lines[] = {"set_tcp_nodelay false", "set_tcp_nodelay true", "autosave_interval 5"};
  for (const char* line : lines) {
    const Parsed parsed = parse(std::string("listener 1883\n") + line + "\n");
    EXPECT_TRUE(parsed.ok) << line << "\n" << parsed.allMessages();
    EXPECT_EQ(parsed.warningCount(), 0) << line << "\n" << parsed.allMessages();
  }
  EXPECT_FALSE(parse("listener 1883\nset_tcp_nodelay maybe\n").ok);
  EXPECT_FALSE(parse("listener 1883\nautosave_interval soon\n").ok);
}

// Bridge sections are parsed, not skipped (the details are in config_bridge_test.cpp).
TEST(Bridges, SectionIsParsedInsteadOfSkipped) {
  const Parsed parsed = parse(
      "listener 1883\n"
      "connection cloud\n"
      "address mqtt.example.com:8883\n"
      "topic sensors/# out 1 \"\" site-a/\n"
      "remote_username site-a\n"
      "cleansession false\n");
  ASSERT_TRUE(parsed.ok) << parsed.allMessages();
  EXPECT_EQ(parsed.warningCount(), 0) << parsed.allMessages();
  ASSERT_EQ(parsed.config.bridges.size(), 1u);
  EXPECT_EQ(parsed.config.bridges[0].name, "cloud");
  EXPECT_EQ(parsed.config.bridges[0].remoteUsername, "site-a");
}

TEST(Ignored, MosquittoDatabaseNameIsWarnedAbout) {
  const Parsed parsed = parse("listener 1883\npersistence_file mosquitto.db\n");
  ASSERT_TRUE(parsed.ok);
  EXPECT_TRUE(parsed.hasWarningContaining("SQLite"));
}

TEST(Persistence, FilePathJoinsLocationAndFile) {
  Config config;
  EXPECT_EQ(persistenceFilePath(config), "midge.db");
  config.persistenceLocation = "/var/lib/midge";
  EXPECT_EQ(persistenceFilePath(config), "/var/lib/midge/midge.db");
  config.persistenceLocation = "/var/lib/midge/";
  config.persistenceFile = "s.db";
  EXPECT_EQ(persistenceFilePath(config), "/var/lib/midge/s.db");
}

TEST(CommandLine, PortsMoveTheLocalOnlyListeners) {
  Parsed parsed = parse("");
  ASSERT_TRUE(parsed.ok);
  std::vector<Diagnostic> diags;
  ASSERT_TRUE(applyCommandLineOverrides(parsed.config, {{1900, 1901}, false}, diags));
  ASSERT_EQ(parsed.config.listeners.size(), 4u);
  EXPECT_EQ(parsed.config.listeners[0].port, 1900);
  EXPECT_EQ(parsed.config.listeners[0].bindAddress, "127.0.0.1");
  EXPECT_EQ(parsed.config.listeners[1].port, 1900);
  EXPECT_EQ(parsed.config.listeners[1].bindAddress, "::1");
  EXPECT_EQ(parsed.config.listeners[3].port, 1901);
  for (const auto& listener : parsed.config.listeners) {
    EXPECT_TRUE(listener.security.allowAnonymous);
  }
}

TEST(CommandLine, PortsAreIgnoredWhenTheFileDefinesListeners) {
  Parsed parsed = parse("listener 1883\n");
  ASSERT_TRUE(parsed.ok);
  std::vector<Diagnostic> diags;
  ASSERT_TRUE(applyCommandLineOverrides(parsed.config, {{1900}, false}, diags));
  ASSERT_EQ(parsed.config.listeners.size(), 1u);
  EXPECT_EQ(parsed.config.listeners[0].port, 1883);
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_FALSE(diags[0].fatal);
}

TEST(CommandLine, PortZeroIsRefused) {
  Parsed parsed = parse("");
  std::vector<Diagnostic> diags;
  EXPECT_FALSE(applyCommandLineOverrides(parsed.config, {{0}, false}, diags));
  EXPECT_TRUE(hasFatal(diags));
  EXPECT_EQ(parsed.config.listeners.at(0).port, 1883);
}

TEST(CommandLine, VerboseEnablesEveryLogType) {
  Parsed parsed = parse("log_type error\n");
  ASSERT_FALSE(parsed.config.log.types.debug);
  std::vector<Diagnostic> diags;
  ASSERT_TRUE(applyCommandLineOverrides(parsed.config, {{}, true}, diags));
  EXPECT_TRUE(parsed.config.log.types.debug);
  EXPECT_TRUE(parsed.config.log.types.subscribe);
  EXPECT_TRUE(parsed.config.log.types.information);
}

}  // namespace
}  // namespace midge::config::test
