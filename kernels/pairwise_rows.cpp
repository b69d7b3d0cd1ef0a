// The CPU pair rows (kernels/pairwise_rows.hpp): the Riesz family and the other families are
// compiled for each SIMD target in translation units of their own (kernels/pairwise_rows-inl.h);
// this one picks the group by the block's family.
#include "nwgf/kernels/pairwise_rows.hpp"

namespace nwgf::detail {

void pairwise_rows(const RowBlock<float>& blk) {
  if (blk.family == PairFamily::riesz) return pairwise_rows_riesz(blk);
  pairwise_rows_families(blk);
}

void pairwise_rows(const RowBlock<double>& blk) {
  if (blk.family == PairFamily::riesz) return pairwise_rows_riesz(blk);
  pairwise_rows_families(blk);
}

}  // namespace nwgf::detail
