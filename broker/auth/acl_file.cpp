// SPDX-License-Identifier: Apache-2.0
#include "broker/auth/acl_file.hpp"

#include <cstddef>

#include "broker/auth/text_file.hpp"

namespace midge::auth {
namespace {

// MQTT strings are at most 65535 bytes (spec 1.5.3); a longer filter can never match.
constexpr std::size_t kMaxFilterBytes = 65535;

using PieceKind = AclPatternPiece::Kind;

constexpr std::uint8_t kDeny = 0;
constexpr std::uint8_t kRead = 1;
constexpr std::uint8_t kWrite = 2;

// Walks a plain filter one character at a time.
class TextCursor {
 public:
  explicit TextCursor(std::string_view text) : text_(text) {}
  bool atEnd() const { return position_ == text_.size(); }
  char peek() const { return text_[position_]; }
  void advance() { ++position_; }

 private:
  std::string_view text_;
  std::size_t position_ = 0;
};

// Walks a pattern as if %c and %u had been replaced, without building the string: the read
// check runs for every delivered message and should not allocate.
class PatternCursor {
 public:
  PatternCursor(const std::vector<AclPatternPiece>& pieces, std::string_view clientId,
                std::string_view username)
      : pieces_(pieces), clientId_(clientId), username_(username) {
    settle();
  }
  bool atEnd() const { return piece_ == pieces_.size(); }
  char peek() const { return current()[offset_]; }
  void advance() {
    ++offset_;
    settle();
  }

 private:
  std::string_view current() const {
    const AclPatternPiece& piece = pieces_[piece_];
    switch (piece.kind) {
      case PieceKind::ClientId:
        return clientId_;
      case PieceKind::Username:
        return username_;
      case PieceKind::Text:
        break;
    }
    return piece.text;
  }
  // Skips finished and empty pieces so that peek() always has a character to show.
  void settle() {
    while (piece_ < pieces_.size() && offset_ >= current().size()) {
      ++piece_;
      offset_ = 0;
    }
  }

  const std::vector<AclPatternPiece>& pieces_;
  std::string_view clientId_;
  std::string_view username_;
  std::size_t piece_ = 0;
  std::size_t offset_ = 0;
};

template <typename Cursor>
bool restIsMultiLevelWildcard(Cursor filter) {
  for (char expected : std::string_view("/#")) {
    if (filter.atEnd() || filter.peek() != expected) return false;
    filter.advance();
  }
  return filter.atEnd();
}

// MQTT matching of a valid filter against a valid topic name (spec 4.7), including
// "sport/#" matching "sport" and no leading wildcard matching a "$" topic.
template <typename Cursor>
bool filterMatchesTopic(Cursor filter, std::string_view topic) {
  if (topic.front() == '$' && (filter.atEnd() || filter.peek() != '$')) return false;
  std::size_t t = 0;
  while (!filter.atEnd()) {
    char c = filter.peek();
    if (c == '#') return true;
    if (c == '+') {
      filter.advance();
      while (t < topic.size() && topic[t] != '/') ++t;
      continue;
    }
    if (t == topic.size()) return restIsMultiLevelWildcard(filter);
    if (c != topic[t]) return false;
    filter.advance();
    ++t;
  }
  return t == topic.size();
}

bool hasWildcard(std::string_view text) {
  return text.find_first_of("+#") != std::string_view::npos;
}

bool validTopicName(std::string_view topic) {
  return !topic.empty() && topic.size() <= kMaxFilterBytes && !hasWildcard(topic) &&
         topic.find('\0') == std::string_view::npos;
}

// The rules of a subscription filter (spec 4.7.1): wildcards fill a whole level, '#' last.
const char* filterProblem(std::string_view filter) {
  if (filter.empty()) return "empty topic filter";
  if (filter.size() > kMaxFilterBytes) return "topic filter longer than 65535 bytes";
  for (std::size_t i = 0; i < filter.size(); ++i) {
    char c = filter[i];
    bool levelStart = i == 0 || filter[i - 1] == '/';
    bool levelEnd = i + 1 == filter.size() || filter[i + 1] == '/';
    if (c == '\0') return "topic filter contains a NUL character";
    if (c == '+' && !(levelStart && levelEnd)) return "'+' must fill a whole level";
    if (c == '#' && !(levelStart && i + 1 == filter.size())) {
      return "'#' must be the whole last level";
    }
  }
  return nullptr;
}

// Identities substituted into a grant must stay inside their own level: a client id "a/b"
// in "clients/%c/#" would reach into client "a"'s tree.
bool safeToSubstitute(std::string_view value) {
  return !value.empty() && value.find('/') == std::string_view::npos;
}

std::string located(std::string_view source, std::size_t line, const std::string& what) {
  return std::string(source) + ":" + std::to_string(line) + ": " + what;
}

std::string_view firstWord(std::string_view text, std::string_view& rest) {
  std::size_t end = 0;
  while (end < text.size() && !isBlank(text[end])) ++end;
  rest = trimBlanks(text.substr(end));
  return text.substr(0, end);
}

bool parseAccess(std::string_view word, std::uint8_t& access) {
  if (word == "read") {
    access = kRead;
  } else if (word == "write") {
    access = kWrite;
  } else if (word == "readwrite") {
    access = kRead | kWrite;
  } else if (word == "deny") {
    access = kDeny;
  } else {
    return false;
  }
  return true;
}

std::vector<AclPatternPiece> splitPattern(std::string_view pattern, bool& usesClientId,
                                          bool& usesUsername, bool& insideLevel) {
  std::vector<AclPatternPiece> pieces;
  std::string text;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    bool substitution = pattern[i] == '%' && i + 1 < pattern.size() &&
                        (pattern[i + 1] == 'c' || pattern[i + 1] == 'u');
    if (!substitution) {
      text.push_back(pattern[i]);
      continue;
    }
    bool wholeLevel = (i == 0 || pattern[i - 1] == '/') &&
                      (i + 2 == pattern.size() || pattern[i + 2] == '/');
    insideLevel = insideLevel || !wholeLevel;
    if (!text.empty()) pieces.push_back({PieceKind::Text, std::move(text)});
    text.clear();
    PieceKind kind = pattern[i + 1] == 'c' ? PieceKind::ClientId : PieceKind::Username;
    (kind == PieceKind::ClientId ? usesClientId : usesUsername) = true;
    pieces.push_back({kind, std::string()});
    ++i;
  }
  if (!text.empty()) pieces.push_back({PieceKind::Text, std::move(text)});
  return pieces;
}

// Reads "[ACCESS] FILTER" after topic or pattern. Returns the problem, or "" when the line
// holds a valid filter (access defaults to readwrite).
std::string readRule(std::string_view keyword, std::string_view rest, std::string_view& filter,
                     std::uint8_t& access) {
  if (rest.empty()) return "'" + std::string(keyword) + "' needs a topic filter";
  std::string_view word = firstWord(rest, filter);
  access = kRead | kWrite;
  if (filter.empty()) {
    // "topic read" alone would be the topic "read" for Mosquitto; far more likely a typo.
    if (parseAccess(word, access)) {
      return "access '" + std::string(word) + "' is not followed by a topic filter";
    }
    filter = word;
  } else if (!parseAccess(word, access)) {
    return "unknown access '" + std::string(word) +
           "' (expected read, write, readwrite or deny)";
  }
  if (const char* problem = filterProblem(filter)) {
    return "invalid topic filter '" + std::string(filter) + "': " + problem;
  }
  return {};
}

}  // namespace

bool AclFile::load(const std::string& path, AclFile& out, std::string& error) {
  std::string text;
  if (!readTextFile(path, text, error)) return false;
  return parse(text, path, out, error);
}

bool AclFile::parse(std::string_view text, std::string_view sourceName, AclFile& out,
                    std::string& error) {
  AclFile parsed;
  Section* section = &parsed.anonymous_;
  LineReader lines(text);
  std::string_view line;
  while (lines.next(line)) {
    std::string_view content = trimBlanks(line);
    if (content.empty() || content.front() == '#') continue;
    auto fail = [&](const std::string& what) {
      error = located(sourceName, lines.lineNumber(), what);
      return false;
    };
    std::string_view rest;
    std::string_view keyword = firstWord(content, rest);
    if (keyword == "user") {
      // The rest of the line is the name, as in Mosquitto, so names may contain blanks.
      if (rest.empty()) return fail("'user' needs a user name");
      section = &parsed.users_[std::string(rest)];
      continue;
    }
    if (keyword != "topic" && keyword != "pattern") {
      return fail("unknown keyword '" + std::string(keyword) +
                  "' (expected topic, pattern or user)");
    }
    std::string_view filter;
    std::uint8_t access = 0;
    const std::string problem = readRule(keyword, rest, filter, access);
    if (!problem.empty()) return fail(problem);
    if (keyword == "topic") {
      (access == kDeny ? section->denies : section->grants)
          .push_back({std::string(filter), access});
    } else {
      parsed.addPattern(filter, access, sourceName, lines.lineNumber());
    }
  }
  out = std::move(parsed);
  return true;
}

void AclFile::addPattern(std::string_view filter, std::uint8_t access,
                         std::string_view sourceName, std::size_t lineNumber) {
  PatternRule rule;
  bool insideLevel = false;
  rule.pieces = splitPattern(filter, rule.usesClientId, rule.usesUsername, insideLevel);
  rule.access = access;
  if (!rule.usesClientId && !rule.usesUsername) {
    warnings_.push_back(located(sourceName, lineNumber,
                                "pattern '" + std::string(filter) +
                                    "' contains neither %c nor %u and applies to "
                                    "every client"));
  }
  if (insideLevel) {
    warnings_.push_back(located(
        sourceName, lineNumber,
        "pattern '" + std::string(filter) +
            "' uses %c or %u inside a level; substituted as text, as Mosquitto 2.0 does"));
  }
  (access == kDeny ? patternDenies_ : patternGrants_).push_back(std::move(rule));
}

bool AclFile::allowed(std::string_view clientId, std::optional<std::string_view> username,
                      std::string_view topicOrFilter, Access access) const {
  if (access == Access::Subscribe) return true;
  if (!validTopicName(topicOrFilter)) return false;
  std::uint8_t bit = access == Access::Read ? kRead : kWrite;
  const Section* section = &anonymous_;
  if (username) {
    auto it = users_.find(*username);
    section = it == users_.end() ? nullptr : &it->second;
  }
  bool verdict = false;
  if (section != nullptr && sectionDecides(*section, topicOrFilter, bit, verdict)) {
    return verdict;
  }
  return patternsAllow(clientId, username, topicOrFilter, bit);
}

bool AclFile::sectionDecides(const Section& section, std::string_view topic, std::uint8_t bit,
                             bool& verdict) {
  for (const TopicRule& rule : section.denies) {
    if (filterMatchesTopic(TextCursor(rule.filter), topic)) {
      verdict = false;
      return true;
    }
  }
  for (const TopicRule& rule : section.grants) {
    if ((rule.access & bit) != 0 && filterMatchesTopic(TextCursor(rule.filter), topic)) {
      verdict = true;
      return true;
    }
  }
  return false;
}

bool AclFile::patternsAllow(std::string_view clientId, std::optional<std::string_view> username,
                            std::string_view topic, std::uint8_t bit) const {
  if (patternDenies_.empty() && patternGrants_.empty()) return false;
  // As Mosquitto: an identity with a wildcard could widen any pattern, so it gets none.
  if (hasWildcard(clientId) || (username && hasWildcard(*username))) return false;
  std::string_view user = username.value_or(std::string_view());
  for (const PatternRule& rule : patternDenies_) {
    if (rule.usesUsername && !username) continue;
    if (filterMatchesTopic(PatternCursor(rule.pieces, clientId, user), topic)) return false;
  }
  for (const PatternRule& rule : patternGrants_) {
    if ((rule.access & bit) == 0) continue;
    if (rule.usesUsername && (!username || !safeToSubstitute(user))) continue;
    if (rule.usesClientId && !safeToSubstitute(clientId)) continue;
    if (filterMatchesTopic(PatternCursor(rule.pieces, clientId, user), topic)) return true;
  }
  return false;
}

}  // namespace midge::auth
