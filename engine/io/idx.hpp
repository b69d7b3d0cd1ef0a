#pragma once
// IDX files (the MNIST format, LeCun et al. 1998): magic 0x00 0x00 <type> <ndim>, ndim
// big-endian u32 dimensions, then the items in C order, big-endian. Types: 0x08 u8, 0x09 i8,
// 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64. A file may be gzip-compressed (detected by the gzip
// magic, not by the name), as the dataset's *.gz files are.
#include <cstdint>
#include <string>
#include <vector>

#include "nwgf/engine/io/npy.hpp"
#include "nwgf/engine/types.hpp"

namespace nwgf {

struct IdxHeader {
  std::uint8_t type = 0x08;
  std::vector<index_t> dims;  // dims[0]: the number of items
  index_t items() const { return dims.empty() ? 0 : dims[0]; }
  index_t item_size() const;  // product of dims[1:] (1 for a 1-D file)
};

// The header only (reads no more of the file than it needs). Bad input naming the file on a
// malformed or truncated header.
IdxHeader read_idx_header(const std::string& path);

// The first `count` items (0: all) as rows of a (count, item_size) matrix. u8 data is scaled by
// 1/255 to [0, 1]; the other types are converted as they are. count > items, a truncated body,
// a corrupt gzip stream or a size that overflows is bad input naming the file.
HostMatrix<double> read_idx(const std::string& path, index_t count = 0);

// Items [first, last) of those first `count` items (0: all), the same rows read_idx gives them,
// without converting the others (a plain file seeks past them; a gzip stream inflates them):
// for the sharded runs, each rank its own rows. Bad input as read_idx's for a count the file
// does not hold, and for a body truncated or a non-finite value within these rows (item numbers
// global), so the ranks together check what read_idx checks.
HostMatrix<double> read_idx_rows(const std::string& path, index_t count, index_t first,
                                 index_t last);

// The same from the file's bytes (plain or gzip) in memory; `name` is used in messages.
HostMatrix<double> parse_idx(const std::string& bytes, const std::string& name, index_t count = 0);

}  // namespace nwgf
