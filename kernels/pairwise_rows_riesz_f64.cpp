// The CPU pair rows of the Riesz family in double (kernels/pairwise_rows-inl.h), compiled for each
// Highway target; kernels/pairwise_rows.cpp dispatches to them.
#include "nwgf/kernels/pairwise_rows.hpp"
#include "nwgf/kernels/pairwise_rows_targets.hpp"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/pairwise_rows_riesz_f64.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
// foreach_target.h must come first.
#include <hwy/highway.h>

#include "nwgf/kernels/pairwise_rows-inl.h"

HWY_BEFORE_NAMESPACE();
namespace nwgf::detail {
namespace HWY_NAMESPACE {

void RowsRieszF64(const RowBlock<double>& blk) {
#if NWGF_ROWS_TO_AVX2
  if (rows_as_avx2(blk)) return N_AVX2::RowsRieszF64(blk);
#endif
  rows_riesz(blk);
}

}  // namespace HWY_NAMESPACE
}  // namespace nwgf::detail
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace nwgf::detail {

HWY_EXPORT(RowsRieszF64);

void pairwise_rows_riesz(const RowBlock<double>& blk) { HWY_DYNAMIC_DISPATCH(RowsRieszF64)(blk); }

}  // namespace nwgf::detail
#endif
