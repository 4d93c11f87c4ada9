// SPDX-License-Identifier: Apache-2.0
// A minimal C++17 stand-in for std::span: a non-owning view of contiguous objects.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace midge {

template <typename T>
class Span {
 public:
  constexpr Span() noexcept = default;
  constexpr Span(T* data, std::size_t size) noexcept : data_(data), size_(size) {}
  template <typename U>
  Span(const std::vector<U>& v) noexcept : data_(v.data()), size_(v.size()) {}  // NOLINT
  template <typename U>
  Span(std::vector<U>& v) noexcept : data_(v.data()), size_(v.size()) {}  // NOLINT
  template <std::size_t N>
  constexpr Span(T (&array)[N]) noexcept : data_(array), size_(N) {}  // NOLINT

  constexpr T* data() const noexcept { return data_; }
  constexpr std::size_t size() const noexcept { return size_; }
  constexpr bool empty() const noexcept { return size_ == 0; }
  constexpr T& operator[](std::size_t i) const noexcept { return data_[i]; }
  constexpr T* begin() const noexcept { return data_; }
  constexpr T* end() const noexcept { return data_ + size_; }

  // Callers check bounds first; these never form a pointer past the end.
  constexpr Span first(std::size_t n) const noexcept { return Span(data_, n); }
  constexpr Span subspan(std::size_t offset) const noexcept {
    return Span(data_ + offset, size_ - offset);
  }
  constexpr Span subspan(std::size_t offset, std::size_t n) const noexcept {
    return Span(data_ + offset, n);
  }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

using Bytes = Span<const std::uint8_t>;

inline Bytes asBytes(std::string_view s) noexcept {
  return Bytes(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}
inline std::string_view asStringView(Bytes b) noexcept {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

}  // namespace midge
