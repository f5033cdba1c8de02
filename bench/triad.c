/* The reference for elementwise bandwidth: the STREAM triad as a C loop,
   compiled by bench/run_bench.py with gcc -O3 -march=native -fopenmp. */
#include <omp.h>
#include <stddef.h>

void triad(float *z, const float *x, const float *y, float s, long n, int threads) {
#pragma omp parallel for num_threads(threads) schedule(static)
  for (long i = 0; i < n; ++i)
    z[i] = x[i] + s * y[i];
}
