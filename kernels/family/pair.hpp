#pragma once
// What a kernel family is: a pair functor K for the pairwise sums of kernels/pairwise.hpp, with
// the kernel K(x, y) = k(s) a function of s = |z|^2, z = x - y. For T = float or double, an object
// `kernel` of the family's scalar functor type provides (NWGF_HD, so the CPU rows and the CUDA
// kernels run the same code):
//
//   static make(double p)               the functor for the family's parameter p (host)
//   T value(T s)                        k(s)
//   T grad_factor(T s)                  f = 2 k'(s), so that grad_x k(|x - y|^2) = f z
//   T coincident_rate(T uu)             the right derivative d/dt+ k(t^2 uu) at t = 0 (z = 0,
//                                       uu = |u|^2; a pair that moves apart along u)
//   T coincident_grad_factor(T uu)      c with grad_u coincident_rate = c u
//
// and, for the CPU pair rows, a SIMD functor compiled per Highway target (the second half of
// kernels/family/riesz.hpp shows the interface). Every backend and test takes a family by these
// types alone.
#include "nwgf/engine/hd.hpp"

namespace nwgf {

// The directional derivative of one pair weighted by b (z = x_i - y_j, s = |z|^2, zu = <z,u>,
// uu = |u|^2, u = v_i - w_j): the rate d/dt+ b k(|z + t u|^2) at t = 0, the gradient factors of
// z (f) and of u (fu) and whether z = 0. Where z = 0 only uu is read, elsewhere only zu.
template <class T>
struct DirectionalPair {
  T rate, f, fu;
  bool coincident;
};

template <class K, class T>
NWGF_HD DirectionalPair<T> directional_pair(const K& kernel, T b, T s, T zu, T uu) {
  DirectionalPair<T> q;
  q.coincident = s == T(0);
  q.f = b * kernel.grad_factor(s);
  q.fu = q.coincident ? b * kernel.coincident_grad_factor(uu) : T(0);
  q.rate = q.coincident ? b * kernel.coincident_rate(uu) : q.f * zu;
  return q;
}

}  // namespace nwgf
