// SPDX-License-Identifier: Apache-2.0
// Authentication and authorization from Mosquitto's files: password_file, acl_file and
// allow_anonymous, globally or per listener (per_listener_settings), and client
// certificates as user names (use_identity_as_username). Reloaded on SIGHUP.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "broker/auth/acl_file.hpp"
#include "broker/auth/password_file.hpp"
#include "broker/config/config.hpp"
#include "core/engine/auth.hpp"

namespace midge::app {

class FileAuthenticator final : public Authenticator {
 public:
  // Loads every file the listeners name. False with `error` naming the file and line.
  bool load(const config::Config& config, std::string& error);
  // Loads the files again; on failure keeps everything as it was and says why.
  bool reload(std::string& error);
  // What the last successful load() or reload() found worth a log line but not a refusal:
  // files every user may read, ACL lines that probably do not do what was meant.
  const std::vector<std::string>& warnings() const { return warnings_; }

  AuthDecision authenticate(const AuthRequest& request) override;
  bool allowPublish(const ClientIdentity& who, std::string_view topic) override;
  bool allowSubscribe(const ClientIdentity& who, std::string_view filter) override;
  bool allowReceive(const ClientIdentity& who, std::string_view topic) override;

 private:
  struct ListenerSecurity {
    config::SecuritySettings settings;
    bool certificateAsUsername = false;
    std::shared_ptr<const auth::PasswordFile> passwords;
    std::shared_ptr<const auth::AclFile> acl;
  };
  static bool loadInto(std::vector<ListenerSecurity>& listeners, std::string& error,
                       std::vector<std::string>& warnings);
  const ListenerSecurity* listener(int index) const;
  bool check(const ClientIdentity& who, std::string_view topic, auth::AclFile::Access access);

  std::vector<ListenerSecurity> listeners_;
  std::vector<std::string> warnings_;
};

}  // namespace midge::app
