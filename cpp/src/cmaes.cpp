#include "gfo/cmaes.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "gfo/parallel.hpp"
#include "gfo/rng.hpp"
#include "gfo/simd.hpp"

namespace gfo {
namespace {

using i64 = std::int64_t;

// Eight lanes held as two four-lane vectors (GCC vector extension). Each lane is an independent sequence of
// IEEE operations, so lane-wise loops give the same bits on every ISA clone (v4d is one AVX register or two
// SSE2 ones) without the reassociation a vectorised scalar reduction would need.
typedef double v4d __attribute__((vector_size(32)));

struct v8d {
  v4d lo, hi;
};

inline v8d load8(const double* p) {
  v8d v;
  __builtin_memcpy(&v.lo, p, sizeof v.lo);
  __builtin_memcpy(&v.hi, p + 4, sizeof v.hi);
  return v;
}

inline void store8(double* p, v8d v) {
  __builtin_memcpy(p, &v.lo, sizeof v.lo);
  __builtin_memcpy(p + 4, &v.hi, sizeof v.hi);
}

inline v8d operator+(v8d a, v8d b) { return {a.lo + b.lo, a.hi + b.hi}; }
inline v8d operator*(double a, v8d b) { return {a * b.lo, a * b.hi}; }
inline v8d operator*(v8d a, v8d b) { return {a.lo * b.lo, a.hi * b.hi}; }
inline v8d& operator+=(v8d& a, v8d b) {
  a.lo += b.lo;
  a.hi += b.hi;
  return a;
}
inline v8d zero8() { return {v4d{0, 0, 0, 0}, v4d{0, 0, 0, 0}}; }

inline double reduce8(v8d s) {
  return ((s.lo[0] + s.lo[1]) + (s.lo[2] + s.lo[3])) + ((s.hi[0] + s.hi[1]) + (s.hi[2] + s.hi[3]));
}

// Dot product in eight interleaved lanes, then the remainder in order (the reference's lane_dot).
inline double dot_lanes(const double* a, const double* b, i64 n) {
  v8d s = zero8();
  i64 j = 0;
  for (; j + 8 <= n; j += 8) s += load8(a + j) * load8(b + j);
  double r = reduce8(s);
  for (; j < n; ++j) r += a[j] * b[j];
  return r;
}

// Four dot products sharing the loads of `a`; each result is bit-identical to dot_lanes(a, b_q).
inline void dot_lanes4(const double* a, const double* b0, const double* b1, const double* b2, const double* b3, i64 n,
                       double* out) {
  v8d s0 = zero8(), s1 = s0, s2 = s0, s3 = s0;
  i64 j = 0;
  for (; j + 8 <= n; j += 8) {
    const v8d x = load8(a + j);
    s0 += x * load8(b0 + j);
    s1 += x * load8(b1 + j);
    s2 += x * load8(b2 + j);
    s3 += x * load8(b3 + j);
  }
  double r0 = reduce8(s0), r1 = reduce8(s1), r2 = reduce8(s2), r3 = reduce8(s3);
  for (; j < n; ++j) {
    r0 += a[j] * b0[j];
    r1 += a[j] * b1[j];
    r2 += a[j] * b2[j];
    r3 += a[j] * b3[j];
  }
  out[0] = r0;
  out[1] = r1;
  out[2] = r2;
  out[3] = r3;
}

// out[k, i] = shift[i] + scale * (B V^T)[i, k] = shift[i] + scale * sum_j B[i, j] V[k, j], rows i in [i0, i1).
// B's row i is read once for all k (B is the large operand).
GFO_SIMD_CLONES void mat_vecs_rows(const double* B, const double* V, i64 m, i64 n, i64 i0, i64 i1,
                                   const double* shift, double scale, double* out) {
  double s[4];
  for (i64 i = i0; i < i1; ++i) {
    const double* b = B + i * n;
    const double c = shift ? shift[i] : 0.0;
    i64 k = 0;
    for (; k + 4 <= m; k += 4) {
      dot_lanes4(b, V + k * n, V + (k + 1) * n, V + (k + 2) * n, V + (k + 3) * n, n, s);
      for (int q = 0; q < 4; ++q) out[(k + q) * n + i] = c + scale * s[q];
    }
    for (; k < m; ++k) out[k * n + i] = c + scale * dot_lanes(b, V + k * n, n);
  }
}

void mat_vecs(const double* B, const double* V, i64 m, i64 n, const double* shift, double scale, double* out) {
  const i64 chunk = std::max<i64>(1, 4096 / std::max<i64>(n, 1));
  parallel_chunks(n, chunk, n * m, [&](i64 b, i64 e) { mat_vecs_rows(B, V, m, n, b, e, shift, scale, out); });
}

// Rows [i0, i1) of the upper triangle of Eq. (47), mirrored into the lower one:
// C[i, j] = a C[i, j] + (c1 p_c[i]) p_c[j] + cmu sum_r (w°_r Y[r, i]) Y[r, j], the sum in increasing r.
GFO_SIMD_CLONES void cov_update_rows(double* C, const double* Y, const double* wo, const double* p_c, i64 lam, i64 n,
                                     double a, double c1, double cmu, i64 i0, i64 i1, double* s) {
  for (i64 i = i0; i < i1; ++i) {
    for (i64 r = 0; r < lam; ++r) s[r] = wo[r] * Y[r * n + i];
    double* row = C + i * n;
    const double pci = c1 * p_c[i];
    i64 j = i;
    for (; j + 8 <= n; j += 8) {
      v8d t = zero8();
      for (i64 r = 0; r < lam; ++r) t += s[r] * load8(Y + r * n + j);
      store8(row + j, (a * load8(row + j) + pci * load8(p_c + j)) + cmu * t);
    }
    for (; j < n; ++j) {
      double t = 0.0;
      for (i64 r = 0; r < lam; ++r) t += s[r] * Y[r * n + j];
      row[j] = (a * row[j] + pci * p_c[j]) + cmu * t;
    }
    for (j = i + 1; j < n; ++j) C[j * n + i] = row[j];
  }
}

// out[j] = D[j] * normal(seed, stream, first + j) (D null: the plain normals), equal to normal<double>() bit for
// bit (libm's log/cos/sin, as NumPy's twin), but each Philox block computed once for its pair of uniforms
// and 64 blocks at a time by philox_lanes, whose rounds vectorize.
GFO_SIMD_CLONES void normal_scaled(std::uint64_t seed, std::uint64_t stream, std::uint64_t first, const double* D,
                                   i64 n, double* out) {
  constexpr i64 kTile = 64;  // pairs per tile
  alignas(32) std::uint32_t w0[kTile], w1[kTile], w2[kTile], w3[kTile];
  double z[2 * kTile];
  i64 done = 0;
  while (done < n) {
    const std::uint64_t e = first + std::uint64_t(done);  // next element; its pair is e >> 1
    const std::uint64_t k0 = e >> 1;
    const i64 skip = i64(e & 1);
    const i64 take = std::min<i64>(2 * kTile - skip, n - done);
    const i64 pairs = (skip + take + 1) / 2;
    philox_lanes(seed, stream, k0, pairs, w0, w1, w2, w3);
    for (i64 l = 0; l < pairs; ++l)
      box_muller(bits_to_uniform64(w0[l], w1[l]), bits_to_uniform64(w2[l], w3[l]), z[2 * l], z[2 * l + 1]);
    double* o = out + done;
    if (D) {
      const double* d = D + done;
      for (i64 j = 0; j < take; ++j) o[j] = d[j] * z[skip + j];
    } else {
      for (i64 j = 0; j < take; ++j) o[j] = z[skip + j];
    }
    done += take;
  }
}

// Ranks by fitness: stable, so ties (+inf included) keep the order of the batch, as numpy's stable argsort.
void rank(const double* f, i64 lam, i64* order) {
  std::iota(order, order + lam, i64(0));
  std::stable_sort(order, order + lam, [f](i64 a, i64 b) { return f[a] < f[b]; });
}

}  // namespace

void cma_sample(std::uint64_t seed, std::uint64_t stream, const double* mean, double sigma, const double* B,
                const double* D, std::int64_t lam, std::int64_t n, double* X, double* Z, double* work) {
  // normal<double> (libm's log/cos/sin, as NumPy's twin): the samples match the reference to the last bit
  normal_scaled(seed, stream, 0, nullptr, lam * n, Z);  // element k * n + j: one contiguous range of the stream
  for (i64 k = 0; k < lam; ++k)
    for (i64 j = 0; j < n; ++j) work[k * n + j] = D[j] * Z[k * n + j];
  mat_vecs(B, work, lam, n, mean, sigma, X);
}

CmaStep cma_tell(const double* X, const double* Z, const double* f, std::int64_t lam, std::int64_t n,
                 const double* weights, const CmaParams& p, double* mean, double sigma, double* C, const double* B,
                 const double* D, double* p_sigma, double* p_c, double* work, std::int64_t* order, CmaStats* stats) {
  const i64 mu = p.mu, nneg = lam - mu;
  double* Y = work;                  // lam x n: sorted steps (x - m) / sigma
  double* yw = Y + lam * n;          // n
  double* zsum = yw + n;             // n
  rank(f, lam, order);
  parallel_chunks(lam, 1, n, [&](i64 b, i64 e) {
    for (i64 r = b; r < e; ++r) {
      const double* x = X + order[r] * n;
      for (i64 j = 0; j < n; ++j) Y[r * n + j] = (x[j] - mean[j]) / sigma;
    }
  });
  // <y>_w, <z>_w and the new mean (Eq. 41 with c_m).
  for (i64 j = 0; j < n; ++j) yw[j] = zsum[j] = 0.0;
  for (i64 r = 0; r < mu; ++r) {
    const double w = weights[r];
    const double* z = Z + order[r] * n;
    for (i64 j = 0; j < n; ++j) {
      yw[j] += w * Y[r * n + j];
      zsum[j] += w * z[j];
    }
  }
  const double step = p.c_m * sigma;
  double mmax = 0.0;
  for (i64 j = 0; j < n; ++j) {
    mean[j] = mean[j] + step * yw[j];
    mmax = std::max(mmax, std::fabs(mean[j]));
  }
  // C^{-1/2} <y>_w = B <z>_w (Eq. 43).
  double* zw = zsum + n;
  mat_vecs(B, zsum, 1, n, nullptr, 1.0, zw);
  const double cs = p.c_sigma, a_s = std::sqrt(cs * (2.0 - cs) * p.mueff);
  for (i64 j = 0; j < n; ++j) p_sigma[j] = (1.0 - cs) * p_sigma[j] + a_s * zw[j];
  const double ps_norm = std::sqrt(dot_lanes(p_sigma, p_sigma, n));
  const double corr = std::sqrt(1.0 - std::pow(1.0 - cs, 2.0 * double(p.generation + 1)));
  const double h = ps_norm / corr < (1.4 + 2.0 / double(n + 1)) * p.chi_n ? 1.0 : 0.0;
  const double cc = p.c_c, a_c = h * std::sqrt(cc * (2.0 - cc) * p.mueff);
  double pcmax = 0.0;
  for (i64 j = 0; j < n; ++j) {
    p_c[j] = (1.0 - cc) * p_c[j] + a_c * yw[j];
    pcmax = std::max(pcmax, std::fabs(p_c[j]));
  }
  // Active weights w° (Eq. 46): negative weights rescaled by n / ||C^{-1/2} y||^2 = n / ||z||^2.
  std::vector<double> wo(weights, weights + lam);
  for (i64 r = 0; r < nneg; ++r) {
    const double* z = Z + order[mu + r] * n;
    const double q = dot_lanes(z, z, n);
    wo[mu + r] = q > 0.0 ? weights[mu + r] * double(n) / q : 0.0;
  }
  double wsum = 0.0;
  for (i64 r = 0; r < lam; ++r) wsum += weights[r];
  const double delta = (1.0 - h) * cc * (2.0 - cc);
  const double a = 1.0 + p.c1 * delta - p.c1 - p.cmu * wsum;
  // Eq. (47) on the upper triangle, mirrored: C stays exactly symmetric. Rows get shorter with i, hence the
  // dynamic schedule; each element is still computed by one thread in a fixed order.
#ifdef _OPENMP
  const bool par = n * n * lam >= kParallelGrain && omp_get_max_threads() > 1;
#pragma omp parallel if (par)
#endif
  {
    std::vector<double> s(lam);
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 8)
#endif
    for (i64 i = 0; i < n; i += 8)
      cov_update_rows(C, Y, wo.data(), p_c, lam, n, a, p.c1, p.cmu, i, std::min(i + 8, n), s.data());
  }
  double cmin = C[0], cmax = C[0];
  for (i64 j = 1; j < n; ++j) {
    cmin = std::min(cmin, C[j * n + j]);
    cmax = std::max(cmax, C[j * n + j]);
  }
  *stats = CmaStats{f[order[0]], f[order[lam / 2]], f[order[lam - 1]], pcmax, cmin, cmax, mmax};
  // Cumulative step-size adaptation (Eq. 44), the exponent capped at 1 against blow-ups.
  const double ex = std::min(1.0, (cs / p.d_sigma) * (ps_norm / p.chi_n - 1.0));
  return CmaStep{sigma * std::exp(ex), h, ps_norm};
}

void sep_sample(std::uint64_t seed, std::uint64_t stream, const double* mean, double sigma, const double* D,
                std::int64_t lam, std::int64_t n, double* X) {
  // Chunks of coordinates (pairs of normals stay aligned): one member may span many chunks at high dimension.
  constexpr i64 kChunk = 8192;
  const i64 per = (n + kChunk - 1) / kChunk;
  parallel_chunks(lam * per, 1, std::min(n, kChunk) * 32, [&](i64 b, i64 e) {
    for (i64 c = b; c < e; ++c) {
      const i64 k = c / per, j0 = (c % per) * kChunk, j1 = std::min(n, j0 + kChunk);
      double* x = X + k * n;
      normal_scaled(seed, stream, std::uint64_t(k * n + j0), D + j0, j1 - j0, x + j0);
      for (i64 j = j0; j < j1; ++j) x[j] = mean[j] + sigma * x[j];
    }
  });
}

CmaStep sep_tell(const double* X, const double* f, std::int64_t lam, std::int64_t n, const double* weights,
                 const CmaParams& p, double* mean, double sigma, double* c, double* D, double* p_sigma,
                 double* p_c, double* work, std::int64_t* order) {
  const i64 mu = p.mu;
  double* yw = work;
  double* sq = work + n;  // sum_r w_r y_r^2, the rank-mu term
  rank(f, lam, order);
  const double step = p.c_m * sigma, cs = p.c_sigma, a_s = std::sqrt(cs * (2.0 - cs) * p.mueff);
  constexpr i64 kChunk = 4096;
  const i64 nchunks = (n + kChunk - 1) / kChunk;
  std::vector<double> partial(nchunks, 0.0);
  // Pass 1, per coordinate: <y>_w, sum w y^2, mean, p_sigma, and ||p_sigma||^2 per chunk.
  parallel_chunks(n, kChunk, 4 * mu, [&](i64 b, i64 e) {
    for (i64 j = b; j < e; ++j) {
      yw[j] = 0.0;
      sq[j] = 0.0;
    }
    for (i64 r = 0; r < mu; ++r) {
      const double* x = X + order[r] * n;
      const double w = weights[r];
      for (i64 j = b; j < e; ++j) {
        const double y = (x[j] - mean[j]) / sigma;
        yw[j] += w * y;
        sq[j] += w * (y * y);
      }
    }
    double s = 0.0;
    for (i64 j = b; j < e; ++j) {
      mean[j] = mean[j] + step * yw[j];
      p_sigma[j] = (1.0 - cs) * p_sigma[j] + a_s * (yw[j] / D[j]);
      s += p_sigma[j] * p_sigma[j];
    }
    partial[b / kChunk] = s;
  });
  double ss = 0.0;
  for (double s : partial) ss += s;
  const double ps_norm = std::sqrt(ss);
  const double corr = std::sqrt(1.0 - std::pow(1.0 - cs, 2.0 * double(p.generation + 1)));
  const double h = ps_norm / corr < (1.4 + 2.0 / double(n + 1)) * p.chi_n ? 1.0 : 0.0;
  const double cc = p.c_c, a_c = h * std::sqrt(cc * (2.0 - cc) * p.mueff);
  double wsum = 0.0;
  for (i64 r = 0; r < mu; ++r) wsum += weights[r];
  const double a = 1.0 + p.c1 * ((1.0 - h) * cc * (2.0 - cc)) - p.c1 - p.cmu * wsum;
  const double c1 = p.c1, cmu = p.cmu;
  parallel_chunks(n, kChunk, 8, [&](i64 b, i64 e) {
    for (i64 j = b; j < e; ++j) {
      p_c[j] = (1.0 - cc) * p_c[j] + a_c * yw[j];
      c[j] = a * c[j] + c1 * (p_c[j] * p_c[j]) + cmu * sq[j];
      D[j] = std::sqrt(c[j]);
    }
  });
  const double ex = std::min(1.0, (cs / p.d_sigma) * (ps_norm / p.chi_n - 1.0));
  return CmaStep{sigma * std::exp(ex), h, ps_norm};
}

}  // namespace gfo
