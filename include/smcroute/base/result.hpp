// base/result: the Error value and Result<T> used for every expected failure.
// Owns nothing but the value or the error; never throws, never logs.
#pragma once

#include <cassert>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace smcroute {

// An expected failure: errno (0 when not an OS error) and a message meant for
// an operator, e.g. "add route (10.0.0.1, 225.1.2.3) from eth0: No such device".
struct Error {
    int code = 0;
    std::string message;
};

// Error with errno text appended: "context: strerror(code)".
Error os_error(int code, std::string context);
// Error with a plain message, no errno.
Error fail(std::string message);

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    Result(Error err) : v_(std::in_place_index<1>, std::move(err)) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { assert(ok()); return std::get<0>(v_); }
    const T& value() const& { assert(ok()); return std::get<0>(v_); }
    T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const { assert(!ok()); return std::get<1>(v_); }
    Error&& take_error() { assert(!ok()); return std::get<1>(std::move(v_)); }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error err) : err_(std::move(err)), ok_(false) {}

    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const Error& error() const { assert(!ok_); return err_; }
    Error&& take_error() { assert(!ok_); return std::move(err_); }

private:
    Error err_;
    bool ok_ = true;
};

using Status = Result<void>;

} // namespace smcroute
