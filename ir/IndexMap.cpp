//===- ir/IndexMap.cpp - Affine and indirect index maps --------------------===//
#include "ir/IndexMap.h"

#include <algorithm>

namespace gradc::ir {

int64_t Affine::coeff(int v) const {
  for (auto &[var, c] : terms)
    if (var == v)
      return c;
  return 0;
}

void Affine::add(int v, int64_t c) {
  if (c == 0)
    return;
  for (auto it = terms.begin(); it != terms.end(); ++it)
    if (it->first == v) {
      it->second += c;
      if (it->second == 0)
        terms.erase(it);
      return;
    }
  terms.emplace_back(v, c);
  // Keep a canonical order (loop variables ascending, then symbols) so that
  // equal maps compare equal and print the same.
  std::sort(terms.begin(), terms.end(), [](auto &a, auto &b) {
    bool sa = a.first < 0, sb = b.first < 0;
    if (sa != sb)
      return !sa;
    return sa ? a.first > b.first : a.first < b.first;
  });
}

Affine Affine::plus(const Affine &o) const {
  Affine r = *this;
  r.constant += o.constant;
  for (auto &[v, c] : o.terms)
    r.add(v, c);
  return r;
}

Affine Affine::scaled(int64_t k) const {
  Affine r;
  r.constant = constant * k;
  for (auto &[v, c] : terms)
    r.add(v, c * k);
  return r;
}

Affine Affine::renumbered(const std::vector<int> &to) const {
  Affine r = constantOf(constant);
  for (auto &[v, c] : terms)
    r.add(v >= 0 ? to.at(v) : v, c);
  return r;
}

void renumberLoops(std::vector<IndexMap> &maps, const std::vector<int> &to) {
  for (IndexMap &m : maps)
    for (AxisIndex &ax : m)
      ax.pos = ax.pos.renumbered(to);
}

int64_t Affine::eval(const int64_t *loops, const int64_t *symbols) const {
  int64_t r = constant;
  for (auto &[v, c] : terms)
    r += c * (v >= 0 ? loops[v] : symbols[-v - 1]);
  return r;
}

IndexMap identityMap(int rank) {
  IndexMap m(rank);
  for (int i = 0; i < rank; ++i)
    m[i].pos = Affine::var(i);
  return m;
}

} // namespace gradc::ir
