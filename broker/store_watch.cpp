// SPDX-License-Identifier: Apache-2.0
#include "broker/store_watch.hpp"

#include <utility>

namespace midge::app {

StoreFailureWatch::StoreFailureWatch(std::unique_ptr<store::Store> inner, const Clock& clock,
                                     std::uint32_t timeoutSeconds,
                                     std::function<void(const std::string&)> onExpired)
    : inner_(std::move(inner)),
      clock_(clock),
      timeoutMs_(std::uint64_t{timeoutSeconds} * 1000),
      onExpired_(std::move(onExpired)) {}

Status StoreFailureWatch::commit() {
  Status status = inner_->commit();
  const std::uint64_t now = clock_.monotonicMs();
  if (status.ok()) {
    failingSinceMs_.reset();
    return status;
  }
  if (!failingSinceMs_) failingSinceMs_ = now;
  if (!expired_ && timeoutMs_ != 0 && now - *failingSinceMs_ >= timeoutMs_) {
    expired_ = true;
    const std::uint64_t seconds = (now - *failingSinceMs_) / 1000;
    onExpired_("store commits have failed for " + std::to_string(seconds) +
               " s without one success (persistence_failure_timeout " + std::to_string(timeoutMs_ / 1000) +
               "), last error: " + inner_->lastError() +
               "; stopping so that a restart can reopen the store");
  }
  return status;
}

}  // namespace midge::app
