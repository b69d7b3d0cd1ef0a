#pragma once
// One error type for the whole engine. The CLI maps `kind` to the exit codes of CONTRACT.md:
// bad_input -> 2 (one line `error: ...` naming the flag, key, file or value),
// numerical -> 3 (NaN/Inf; the last good state is kept on disk), runtime -> 1.
#include <stdexcept>
#include <string>

namespace nwgf {

enum class ErrorKind { bad_input, numerical, runtime };

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }
  int exit_code() const noexcept {
    switch (kind_) {
      case ErrorKind::bad_input: return 2;
      case ErrorKind::numerical: return 3;
      default: return 1;
    }
  }

 private:
  ErrorKind kind_;
};

[[noreturn]] inline void throw_bad_input(const std::string& message) {
  throw Error(ErrorKind::bad_input, message);
}
[[noreturn]] inline void throw_numerical(const std::string& message) {
  throw Error(ErrorKind::numerical, message);
}
[[noreturn]] inline void throw_runtime(const std::string& message) {
  throw Error(ErrorKind::runtime, message);
}

}  // namespace nwgf
