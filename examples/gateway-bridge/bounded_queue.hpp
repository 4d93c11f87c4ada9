// SPDX-License-Identifier: Apache-2.0
// The readings a bridge holds while the broker is unreachable: bounded, and when full the
// oldest reading goes first, since a fresh value is worth more than a stale one. Every
// drop is counted so the loss can be reported (<prefix>/<device>/bridge/dropped).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <utility>

namespace midge::bridge {

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t capacity) : capacity_(capacity) {}

  // Returns true when an older element had to be dropped to make room. A capacity of 0
  // keeps nothing: every element counts as dropped.
  bool push(T value) {
    if (capacity_ == 0) {
      ++dropped_;
      return true;
    }
    bool droppedOne = false;
    if (items_.size() == capacity_) {
      items_.pop_front();
      ++dropped_;
      droppedOne = true;
    }
    items_.push_back(std::move(value));
    return droppedOne;
  }

  bool empty() const noexcept { return items_.empty(); }
  std::size_t size() const noexcept { return items_.size(); }
  std::size_t capacity() const noexcept { return capacity_; }
  const T& front() const { return items_.front(); }
  void pop() { items_.pop_front(); }
  std::uint64_t dropped() const noexcept { return dropped_; }

 private:
  std::size_t capacity_;
  std::deque<T> items_;
  std::uint64_t dropped_ = 0;
};

}  // namespace midge::bridge
