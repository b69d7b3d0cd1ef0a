// Save/load of MLP parameters and Adam state: bit-exact round trips (file and in-memory), and
// bad-input errors naming the file for wrong version, dtype, shape, checksum and truncation.
#include <doctest/doctest.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "nwgf/engine/io/file_io.hpp"
#include "nwgf/engine/rng.hpp"
#include "nwgf/nn/serialize.hpp"
#include "tests/helpers.hpp"

using namespace nwgf;

namespace {

// A trained-looking state: initialised parameters and three Adam steps on random gradients.
template <class T>
void make_state(const Context& ctx, Mlp<T>& mlp, Adam<T>& adam, std::uint64_t seed) {
  mlp.init(ctx, seed, 0);
  std::vector<T> g(std::size_t(mlp.num_params()));
  for (int t = 0; t < 3; ++t) {
    rng_normal<T>(ctx, seed, std::uint64_t(t + 1), 0, g.data(), mlp.num_params());
    adam.step(ctx, mlp.params(), g.data(), 1e-2);
  }
}

template <class T>
bool same_bits(const T* a, const T* b, index_t n) {
  return std::memcmp(a, b, sizeof(T) * std::size_t(n)) == 0;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::bad_input);
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE_TEMPLATE("round trip through a file and a string is bit-exact", T, float, double) {
  Context ctx(Device::cpu, 2);
  const std::vector<index_t> w = {4, 32, 32, 2};
  Mlp<T> a(ctx, w, 8), b(ctx, w, 8);
  Adam<T> oa(ctx, a.num_params()), ob(ctx, b.num_params());
  make_state(ctx, a, oa, 7);
  const std::string path = test::tmp_path("mlp_roundtrip.bin");
  save_mlp(ctx, path, a, &oa);
  load_mlp(ctx, path, b, &ob);
  CHECK(same_bits(a.params(), b.params(), a.num_params()));
  CHECK(same_bits(oa.moments(), ob.moments(), 2 * a.num_params()));
  CHECK(ob.steps() == 3);
  CHECK(read_file(path) == serialize_mlp(ctx, a, &oa));

  // Parameters only, and a state with Adam loaded without it.
  Mlp<T> c(ctx, w, 8);
  deserialize_mlp<T>(ctx, serialize_mlp<T>(ctx, a, nullptr), "blob", c, nullptr);
  CHECK(same_bits(a.params(), c.params(), a.num_params()));
  Mlp<T> e(ctx, w, 8);
  deserialize_mlp<T>(ctx, serialize_mlp(ctx, a, &oa), "blob", e, nullptr);
  CHECK(same_bits(a.params(), e.params(), a.num_params()));
  // Training continues identically after a restore.
  std::vector<T> g(std::size_t(a.num_params()));
  rng_normal<T>(ctx, 9, 9, 0, g.data(), a.num_params());
  oa.step(ctx, a.params(), g.data(), 1e-3);
  ob.step(ctx, b.params(), g.data(), 1e-3);
  CHECK(same_bits(a.params(), b.params(), a.num_params()));
}

TEST_CASE("corrupt, truncated or mismatched states are bad-input errors naming the file") {
  Context ctx(Device::cpu, 2);
  const std::vector<index_t> w = {4, 16, 2};
  Mlp<float> a(ctx, w, 4);
  Adam<float> oa(ctx, a.num_params());
  make_state(ctx, a, oa, 3);
  const std::string good = serialize_mlp(ctx, a, &oa);
  const std::string path = test::tmp_path("mlp_bad.bin");
  auto load_bytes = [&](const std::string& bytes, auto& mlp, auto* adam) {
    write_file_atomic(path, bytes);
    return error_of([&] { load_mlp(ctx, path, mlp, adam); });
  };
  Mlp<float> b(ctx, w, 4);
  Adam<float> ob(ctx, b.num_params());
  CHECK(load_bytes(good, b, &ob) == "no error");

  std::string s = good;
  s[8] = 2;  // version 2
  std::string msg = load_bytes(s, b, &ob);
  CHECK(msg.find(path) != std::string::npos);
  CHECK(msg.find("version 2") != std::string::npos);

  s = good;
  s[s.size() / 2] ^= 0x10;  // a flipped bit in the parameters
  msg = load_bytes(s, b, &ob);
  CHECK(msg.find(path) != std::string::npos);
  CHECK(msg.find("checksum") != std::string::npos);

  for (std::size_t keep : {good.size() - 1, good.size() / 2, std::size_t(10), std::size_t(3)}) {
    msg = load_bytes(good.substr(0, keep), b, &ob);
    CHECK(msg.find(path) != std::string::npos);
    CHECK(
        (msg.find("truncated") != std::string::npos || msg.find("checksum") != std::string::npos));
  }
  msg = load_bytes("hello world, not a state", b, &ob);
  CHECK(msg.find("magic") != std::string::npos);

  Mlp<float> other(ctx, {4, 17, 2}, 4);
  Adam<float> oo(ctx, other.num_params());
  msg = load_bytes(good, other, &oo);
  CHECK(msg.find(path) != std::string::npos);
  CHECK(msg.find("widths [4,16,2], expected [4,17,2]") != std::string::npos);

  Mlp<double> wide(ctx, w, 4);
  Adam<double> od(ctx, wide.num_params());
  msg = load_bytes(good, wide, &od);
  CHECK(msg.find("4-byte reals, expected 8-byte") != std::string::npos);

  msg = load_bytes(serialize_mlp<float>(ctx, a, nullptr), b, &ob);
  CHECK(msg.find("no Adam state") != std::string::npos);

  Adam<float> beta(ctx, b.num_params(), 0.5);
  msg = load_bytes(good, b, &beta);
  CHECK(msg.find("hyperparameters") != std::string::npos);

  msg = error_of([&] { load_mlp(ctx, test::tmp_path("missing_mlp.bin"), b, &ob); });
  CHECK(msg.find("missing_mlp.bin") != std::string::npos);
}
