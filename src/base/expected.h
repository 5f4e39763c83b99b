// Errors as values on the data path. std::expected where the standard library has it (GCC 12,
// C++23); clang 14, used only for the libFuzzer build, lacks it, so a minimal stand-in with the
// same spelling of the members we use takes its place there.
#pragma once

#include <version>

#if defined(__cpp_lib_expected)
#include <expected>
namespace sluice {
template <class T, class E>
using Expected = std::expected<T, E>;
template <class E>
using Unexpected = std::unexpected<E>;
}  // namespace sluice
#else
#include <utility>
#include <variant>
namespace sluice {
template <class E>
class Unexpected {
 public:
  explicit Unexpected(E e) : error_(std::move(e)) {}
  E& error() { return error_; }

 private:
  E error_;
};

template <class T, class E>
class Expected {
 public:
  Expected() requires std::is_default_constructible_v<T> : v_(std::in_place_index<0>) {}
  Expected(T v) : v_(std::in_place_index<0>, std::move(v)) {}  // NOLINT(implicit)
  template <class G>
  Expected(Unexpected<G> u) : v_(std::in_place_index<1>, std::move(u.error())) {}  // NOLINT
  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  E& error() { return std::get<1>(v_); }
  const E& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

template <class E>
class Expected<void, E> {
 public:
  Expected() = default;
  template <class G>
  Expected(Unexpected<G> u) : err_(std::move(u.error())), ok_(false) {}  // NOLINT
  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const E& error() const { return err_; }

 private:
  E err_{};
  bool ok_ = true;
};
}  // namespace sluice
#endif
