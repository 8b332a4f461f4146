#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace distillery::core {

// An error a user can act on: a short machine-readable code and a message that names the
// file, node, port or field and what was expected.
struct Error
{
    std::string code;
    std::string message;
};

// Value or Error, returned at module boundaries instead of throwing.
template<typename T>
class [[nodiscard]] Result
{
public:
    Result(T value) : m_data(std::move(value)) {}
    Result(Error error) : m_data(std::move(error)) {}

    static Result failure(std::string code, std::string message)
    {
        return Result(Error{std::move(code), std::move(message)});
    }

    bool ok() const { return std::holds_alternative<T>(m_data); }
    explicit operator bool() const { return ok(); }

    const T &value() const &
    {
        if (!ok())
            throw std::logic_error("Result::value() on an error: " + error().message);
        return std::get<T>(m_data);
    }
    T &value() &
    {
        if (!ok())
            throw std::logic_error("Result::value() on an error: " + error().message);
        return std::get<T>(m_data);
    }
    // By value from a temporary, so that `for (auto &x : f().value())` owns what it loops
    // over (a T&& into the temporary Result would dangle once the Result is destroyed).
    T value() &&
    {
        if (!ok())
            throw std::logic_error("Result::value() on an error: " + error().message);
        return std::get<T>(std::move(m_data));
    }
    const T &operator*() const & { return value(); }
    const T *operator->() const { return &value(); }
    T *operator->() { return &value(); }

    const Error &error() const { return std::get<Error>(m_data); }

private:
    std::variant<T, Error> m_data;
};

// Result for operations that return nothing.
struct Ok
{};
using Status = Result<Ok>;
inline Status okStatus() { return Status(Ok{}); }

} // namespace distillery::core
