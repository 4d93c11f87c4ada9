// SPDX-License-Identifier: Apache-2.0
// The access control list file, in Mosquitto's `acl_file` syntax, with Mosquitto 2.0's rules:
//
//   # comment
//   topic read $SYS/#              <- before any `user` line: clients WITHOUT a username only
//   user roger                     <- following `topic` lines: clients with username "roger"
//   topic foo/bar                  <- no access word means readwrite
//   topic deny foo/bar/secret      <- deny wins over any grant in the same section
//   pattern write sensor/%u/data   <- every client, wherever the line is; %c client id, %u user
//
// A check looks at the client's own section first (its `user` section, or the anonymous
// section when it has no username): a matching deny refuses, a matching grant allows. Then
// the patterns, again denies first. Nothing matched means refused.
//
// Reload (SIGHUP): load into a fresh object and swap it in only when load() succeeds;
// load() leaves `out` untouched on failure.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace midge::auth {

// A `pattern` filter split at its %c and %u substitutions.
struct AclPatternPiece {
  enum class Kind : std::uint8_t { Text, ClientId, Username };
  Kind kind;
  std::string text;  // Kind::Text only
};

class AclFile {
 public:
  enum class Access : std::uint8_t { Read, Write, Subscribe };

  // Reads and validates the whole file. On failure returns false, leaves `out` as it was and
  // sets `error` to "PATH:LINE: what is wrong" (or "PATH: cannot open: ...").
  static bool load(const std::string& path, AclFile& out, std::string& error);

  // As load(), from text already in memory; `sourceName` is used in messages.
  static bool parse(std::string_view text, std::string_view sourceName, AclFile& out,
                    std::string& error);

  // Read: may a message on topic name `topicOrFilter` be delivered to this client? Checked
  //   per delivered message, retained ones included.
  // Write: may this client publish to topic name `topicOrFilter`?
  // Subscribe: always true. Mosquitto grants every SUBSCRIBE under an acl_file and filters
  //   what is delivered with the Read check, so `#` stays a valid subscription for a client
  //   that may read only part of the tree; refusing it would break clients moved over.
  // A topic name with wildcards or an empty one is never allowed to Read or Write.
  bool allowed(std::string_view clientId, std::optional<std::string_view> username,
               std::string_view topicOrFilter, Access access) const;

  // Lines that load but probably do not do what was meant ("PATH:LINE: ..."), for the log.
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  struct TopicRule {
    std::string filter;
    std::uint8_t access;  // bit 1 read, bit 2 write; 0 for deny
  };
  struct Section {
    std::vector<TopicRule> denies;  // checked before grants, wherever they are in the file
    std::vector<TopicRule> grants;
  };

  struct PatternRule {
    std::vector<AclPatternPiece> pieces;
    bool usesClientId = false;
    bool usesUsername = false;
    std::uint8_t access = 0;  // as TopicRule::access
  };

  void addPattern(std::string_view filter, std::uint8_t access, std::string_view sourceName,
                  std::size_t lineNumber);
  static bool sectionDecides(const Section& section, std::string_view topic, std::uint8_t bit,
                             bool& verdict);
  bool patternsAllow(std::string_view clientId, std::optional<std::string_view> username,
                     std::string_view topic, std::uint8_t bit) const;

  Section anonymous_;
  std::map<std::string, Section, std::less<>> users_;
  std::vector<PatternRule> patternDenies_;
  std::vector<PatternRule> patternGrants_;
  std::vector<std::string> warnings_;
};

}  // namespace midge::auth
