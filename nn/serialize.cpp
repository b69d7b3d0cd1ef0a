#include "nwgf/nn/serialize.hpp"

#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/file_io.hpp"

namespace nwgf {
namespace {

constexpr char magic[8] = {'N', 'W', 'G', 'F', 'M', 'L', 'P', '1'};
constexpr char icnn_magic[8] = {'N', 'W', 'G', 'F', 'I', 'C', 'N', '1'};

std::uint32_t crc32_of(const char* data, std::size_t n) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (n > 0) {  // zlib takes uInt lengths
    const uInt chunk = n > (1u << 30) ? (1u << 30) : uInt(n);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data), chunk);
    data += chunk;
    n -= chunk;
  }
  return std::uint32_t(crc);
}

template <class V>
void put(std::string& s, V v) {
  s.append(reinterpret_cast<const char*>(&v), sizeof v);
}

template <class T>
void put_device(const Context& ctx, std::string& s, const T* p, index_t n) {
  const std::size_t at = s.size(), bytes = sizeof(T) * std::size_t(n);
  s.resize(at + bytes);
  detail::copy_bytes(ctx, s.data() + at, Device::cpu, p, ctx.device(), bytes);
}

// Reads fields in order; running out of bytes is a bad-input error naming the source.
class Reader {
 public:
  Reader(std::string_view b, const std::string& what) : b_(b), what_(what) {}
  template <class V>
  V get(const char* field) {
    V v;
    need(sizeof v, field);
    std::memcpy(&v, b_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    return v;
  }
  const char* take(std::size_t bytes, const char* field) {
    need(bytes, field);
    const char* p = b_.data() + pos_;
    pos_ += bytes;
    return p;
  }
  std::size_t pos() const { return pos_; }

 private:
  void need(std::size_t bytes, const char* field) {
    if (b_.size() - pos_ < bytes)
      throw_bad_input(what_ + ": truncated MLP state (reading " + field + ")");
  }
  std::string_view b_;
  const std::string& what_;
  std::size_t pos_ = 0;
};

// The shared layout of both networks' states (nn/serialize.hpp): magic, version, dtype, the
// shape (an MLP's widths; an ICNN's [d, h_0, ..., h_{L-1}, rank, eps bits]), parameters and the
// optional Adam state, checksummed. `net` names the network in messages ("MLP", "ICNN").
template <class T>
std::string serialize_params(const Context& ctx, const char (&tag)[8], const char* net,
                             const std::vector<index_t>& shape, const T* params, index_t n,
                             const Adam<T>* adam) {
  if (adam && adam->size() != n)
    throw_runtime(std::string("serialize: Adam size differs from the ") + net +
                  "'s parameter count");
  std::string s(tag, sizeof tag);
  put<std::uint32_t>(s, mlp_format_version);
  put<std::uint32_t>(s, sizeof(T));
  put<std::uint32_t>(s, std::uint32_t(shape.size()));
  for (index_t w : shape) put<std::int64_t>(s, w);
  put<std::int64_t>(s, n);
  put<std::uint32_t>(s, adam ? 1u : 0u);
  if (adam) {
    put<std::int64_t>(s, adam->device_steps(ctx));
    put<double>(s, adam->beta1());
    put<double>(s, adam->beta2());
    put<double>(s, adam->eps());
  }
  put_device(ctx, s, params, n);
  if (adam) put_device(ctx, s, adam->moments(), 2 * n);
  put<std::uint32_t>(s, crc32_of(s.data(), s.size()));
  return s;
}

template <class T>
void deserialize_params(const Context& ctx, std::string_view bytes, const std::string& what,
                        const char (&tag)[8], const std::string& net,
                        const std::vector<index_t>& want_shape, const char* shape_name, T* params,
                        index_t want_n, Adam<T>* adam) {
  Reader r(bytes, what);
  if (std::memcmp(r.take(sizeof tag, "magic"), tag, sizeof tag) != 0)
    throw_bad_input(what + ": not an nwgf " + net + " state (bad magic)");
  const auto version = r.get<std::uint32_t>("version");
  if (version != mlp_format_version)
    throw_bad_input(what + ": " + net + " state version " + std::to_string(version) +
                    ", expected " + std::to_string(mlp_format_version));
  // The checksum covers everything before its last 4 bytes; check it before trusting sizes.
  if (bytes.size() < sizeof tag + 8) throw_bad_input(what + ": truncated " + net + " state");
  std::uint32_t stored;
  std::memcpy(&stored, bytes.data() + bytes.size() - 4, 4);
  if (crc32_of(bytes.data(), bytes.size() - 4) != stored)
    throw_bad_input(what + ": " + net + " state checksum mismatch (corrupt or truncated file)");
  const auto size_t_ = r.get<std::uint32_t>("dtype");
  if (size_t_ != sizeof(T))
    throw_bad_input(what + ": " + net + " state holds " + std::to_string(size_t_) +
                    "-byte reals, expected " + std::to_string(sizeof(T)) + "-byte");
  const auto nw = r.get<std::uint32_t>("number of widths");
  std::vector<index_t> shape(nw);
  for (auto& w : shape) w = r.get<std::int64_t>("widths");
  auto str = [](const std::vector<index_t>& v) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i) s += ',';
      s += std::to_string(v[i]);
    }
    return s + "]";
  };
  if (shape != want_shape)
    throw_bad_input(what + ": " + net + " state has " + shape_name + " " + str(shape) +
                    ", expected " + str(want_shape));
  const auto n = r.get<std::int64_t>("number of parameters");
  if (n != want_n)
    throw_bad_input(what + ": " + net + " state has " + std::to_string(n) +
                    " parameters, expected " + std::to_string(want_n));
  const auto has_adam = r.get<std::uint32_t>("optimizer flag");
  if (has_adam > 1) throw_bad_input(what + ": bad optimizer flag in " + net + " state");
  if (adam && !has_adam) throw_bad_input(what + ": " + net + " state has no Adam state");
  std::int64_t steps = 0;
  double b1 = 0, b2 = 0, eps = 0;
  if (has_adam) {
    steps = r.get<std::int64_t>("Adam steps");
    b1 = r.get<double>("Adam beta1");
    b2 = r.get<double>("Adam beta2");
    eps = r.get<double>("Adam eps");
    if (steps < 0) throw_bad_input(what + ": negative Adam step count");
    if (adam && (b1 != adam->beta1() || b2 != adam->beta2() || eps != adam->eps()))
      throw_bad_input(what + ": Adam hyperparameters in the file differ from the optimizer's");
  }
  const std::size_t pbytes = sizeof(T) * std::size_t(n);
  const char* p = r.take(pbytes, "parameters");
  const char* mv = has_adam ? r.take(2 * pbytes, "Adam moments") : nullptr;
  if (r.pos() + 4 != bytes.size()) throw_bad_input(what + ": trailing bytes in " + net + " state");
  detail::copy_bytes(ctx, params, ctx.device(), p, Device::cpu, pbytes);
  if (adam) {
    detail::copy_bytes(ctx, adam->moments(), ctx.device(), mv, Device::cpu, 2 * pbytes);
    adam->set_steps(ctx, steps);
  }
}

// An ICNN's shape: d, the hidden widths, the rank and the bits of eps (one i64).
template <class T>
std::vector<index_t> icnn_shape(const Icnn<T>& net) {
  std::vector<index_t> s{net.dim()};
  s.insert(s.end(), net.hidden().begin(), net.hidden().end());
  s.push_back(net.options().rank);
  std::int64_t eps_bits = 0;
  std::memcpy(&eps_bits, &net.options().strong_convexity, sizeof eps_bits);
  s.push_back(eps_bits);
  return s;
}

}  // namespace

template <class T>
std::string serialize_mlp(const Context& ctx, const Mlp<T>& mlp, const Adam<T>* adam) {
  return serialize_params(ctx, magic, "MLP", mlp.widths(), mlp.params(), mlp.num_params(), adam);
}

template <class T>
void deserialize_mlp(const Context& ctx, std::string_view bytes, const std::string& what,
                     Mlp<T>& mlp, Adam<T>* adam) {
  deserialize_params(ctx, bytes, what, magic, "MLP", mlp.widths(), "widths", mlp.params(),
                     mlp.num_params(), adam);
}

template <class T>
std::string serialize_icnn(const Context& ctx, const Icnn<T>& net, const Adam<T>* adam) {
  return serialize_params(ctx, icnn_magic, "ICNN", icnn_shape(net), net.params(),
                          net.num_params(), adam);
}

template <class T>
void deserialize_icnn(const Context& ctx, std::string_view bytes, const std::string& what,
                      Icnn<T>& net, Adam<T>* adam) {
  deserialize_params(ctx, bytes, what, icnn_magic, "ICNN", icnn_shape(net),
                     "shape [d, widths, rank, eps bits]", net.params(), net.num_params(), adam);
}

template <class T>
void save_mlp(const Context& ctx, const std::string& path, const Mlp<T>& mlp, const Adam<T>* adam) {
  const std::string s = serialize_mlp(ctx, mlp, adam);
  write_file_atomic(path, s.data(), s.size());
}

template <class T>
void load_mlp(const Context& ctx, const std::string& path, Mlp<T>& mlp, Adam<T>* adam) {
  const std::string s = read_file(path);
  deserialize_mlp(ctx, s, path, mlp, adam);
}

#define NWGF_INSTANTIATE(T)                                                                       \
  template std::string serialize_mlp<T>(const Context&, const Mlp<T>&, const Adam<T>*);           \
  template void deserialize_mlp<T>(const Context&, std::string_view, const std::string&, Mlp<T>&, \
                                   Adam<T>*);                                                     \
  template void save_mlp<T>(const Context&, const std::string&, const Mlp<T>&, const Adam<T>*);   \
  template void load_mlp<T>(const Context&, const std::string&, Mlp<T>&, Adam<T>*);              \
  template std::string serialize_icnn<T>(const Context&, const Icnn<T>&, const Adam<T>*);         \
  template void deserialize_icnn<T>(const Context&, std::string_view, const std::string&,         \
                                    Icnn<T>&, Adam<T>*);
NWGF_INSTANTIATE(float)
NWGF_INSTANTIATE(double)
#undef NWGF_INSTANTIATE

}  // namespace nwgf
