// SPDX-License-Identifier: Apache-2.0
#include "broker/security.hpp"

#include <map>

#include "broker/auth/text_file.hpp"

namespace midge::app {

bool FileAuthenticator::load(const config::Config& config, std::string& error) {
  std::vector<ListenerSecurity> listeners;
  for (const config::Listener& listener : config.listeners) {
    ListenerSecurity security;
    security.settings = listener.security;
    security.certificateAsUsername =
        listener.tls && (listener.tls->useIdentityAsUsername || listener.tls->useSubjectAsUsername);
    listeners.push_back(std::move(security));
  }
  std::vector<std::string> warnings;
  if (!loadInto(listeners, error, warnings)) return false;
  listeners_ = std::move(listeners);
  warnings_ = std::move(warnings);
  return true;
}

bool FileAuthenticator::reload(std::string& error) {
  std::vector<ListenerSecurity> listeners = listeners_;
  std::vector<std::string> warnings;
  if (!loadInto(listeners, error, warnings)) return false;
  listeners_ = std::move(listeners);
  warnings_ = std::move(warnings);
  return true;
}

bool FileAuthenticator::loadInto(std::vector<ListenerSecurity>& listeners, std::string& error,
                                 std::vector<std::string>& warnings) {
  // Listeners sharing one file (per_listener_settings false) share one loaded copy.
  std::map<std::string, std::shared_ptr<const auth::PasswordFile>> passwordFiles;
  std::map<std::string, std::shared_ptr<const auth::AclFile>> aclFiles;
  for (ListenerSecurity& listener : listeners) {
    const std::string& passwordPath = listener.settings.passwordFile;
    listener.passwords.reset();
    if (!passwordPath.empty()) {
      auto& loaded = passwordFiles[passwordPath];
      if (!loaded) {
        auto file = std::make_shared<auth::PasswordFile>();
        if (!auth::PasswordFile::load(passwordPath, *file, error)) return false;
        // Hashes can be brute-forced offline: other users of the machine should not read them.
        std::string exposed = auth::worldReadableWarning(passwordPath, "password_file");
        if (!exposed.empty()) warnings.push_back(std::move(exposed));
        loaded = std::move(file);
      }
      listener.passwords = loaded;
    }
    const std::string& aclPath = listener.settings.aclFile;
    listener.acl.reset();
    if (!aclPath.empty()) {
      auto& loaded = aclFiles[aclPath];
      if (!loaded) {
        auto file = std::make_shared<auth::AclFile>();
        if (!auth::AclFile::load(aclPath, *file, error)) return false;
        // It names every user and what each may read: a map for an attacker.
        std::string exposed = auth::worldReadableWarning(aclPath, "acl_file");
        if (!exposed.empty()) warnings.push_back(std::move(exposed));
        warnings.insert(warnings.end(), file->warnings().begin(), file->warnings().end());
        loaded = std::move(file);
      }
      listener.acl = loaded;
    }
  }
  return true;
}

const FileAuthenticator::ListenerSecurity* FileAuthenticator::listener(int index) const {
  if (index < 0 || static_cast<std::size_t>(index) >= listeners_.size()) return nullptr;
  return &listeners_[static_cast<std::size_t>(index)];
}

AuthDecision FileAuthenticator::authenticate(const AuthRequest& request) {
  const ListenerSecurity* security = listener(request.identity.listenerIndex);
  if (security == nullptr) return {ReasonCode::NotAuthorized, std::nullopt, {}};
  if (request.method) return {ReasonCode::BadAuthenticationMethod, std::nullopt, {}};
  AuthDecision decision;
  if (security->certificateAsUsername) {
    // The certificate is the credential; a password is neither needed nor checked.
    if (request.peer == nullptr || request.peer->certIdentity.empty()) {
      return {ReasonCode::NotAuthorized, std::nullopt, {}};
    }
    decision.usernameOverride = request.peer->certIdentity;
    return decision;
  }
  if (!request.identity.username) {
    if (security->settings.allowAnonymous) return decision;
    return {ReasonCode::NotAuthorized, std::nullopt, {}};
  }
  if (security->passwords) {
    const Bytes password = request.password.value_or(Bytes());
    if (!security->passwords->check(*request.identity.username, password)) {
      return {ReasonCode::BadUserNameOrPassword, std::nullopt, {}};
    }
    return decision;
  }
  // No password file: a user name proves nothing, so only anonymous access can admit it.
  if (security->settings.allowAnonymous) return decision;
  return {ReasonCode::NotAuthorized, std::nullopt, {}};
}

bool FileAuthenticator::check(const ClientIdentity& who, std::string_view topic,
                              auth::AclFile::Access access) {
  const ListenerSecurity* security = listener(who.listenerIndex);
  if (security == nullptr) return false;
  if (!security->acl) return true;
  return security->acl->allowed(who.clientId, who.username, topic, access);
}

bool FileAuthenticator::allowPublish(const ClientIdentity& who, std::string_view topic) {
  return check(who, topic, auth::AclFile::Access::Write);
}

bool FileAuthenticator::allowSubscribe(const ClientIdentity& who, std::string_view filter) {
  // A filter without wildcards names exactly one topic: if the client may never read it,
  // say so in the SUBACK (0x87) instead of granting a subscription that stays silent.
  // Wildcard filters are granted and every message is checked on delivery, as Mosquitto
  // does, so `#` stays valid for a client that may read only part of the tree.
  if (filter.find_first_of("+#") == std::string_view::npos &&
      filter.rfind("$share/", 0) != 0) {
    return check(who, filter, auth::AclFile::Access::Read);
  }
  return check(who, filter, auth::AclFile::Access::Subscribe);
}

bool FileAuthenticator::allowReceive(const ClientIdentity& who, std::string_view topic) {
  return check(who, topic, auth::AclFile::Access::Read);
}

}  // namespace midge::app
