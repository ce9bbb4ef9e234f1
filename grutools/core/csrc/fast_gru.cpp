// A fused CPU GRU layer, forward and backward, for grutools.FastGRU.
//
// Why: PyTorch's CPU nn.GRU runs each time step as several separate tensor
// operations (and autograd records each of them), while nn.LSTM has a fused
// oneDNN kernel. Here a whole layer is one C++ call:
// - the batch is split between the threads, and each thread runs the whole sequence
//   for its rows on its own (a row's state depends on nothing but its own past), so
//   the threads never wait for each other between steps;
// - per step and thread: two small matrix products (x W_ih^T and h W_hh^T), through
//   oneDNN's just-in-time "brgemm" micro-kernel (the kind nn.LSTM's kernel is built
//   from), and one loop over (rows x hidden) that computes r, z, n and h' together;
// - the backward pass is the mirror image; each step's gradients are used at once,
//   in cache, for dh, dx and the weight gradients (see gru_backward).
// The gates are kept for the backward pass and returned, so grutools.trace gets them
// for free.
//
// PyTorch's equations (rows of W_* stacked as r, z, n):
//   r = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr)
//   z = sigmoid(x W_iz^T + b_iz + h W_hz^T + b_hz)
//   n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))
//   h' = (1 - z) * n + z * h
#include <ATen/Parallel.h>
#include <c10/core/CPUAllocator.h>
#include <ATen/native/CPUBlas.h>
#include <torch/extension.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iterator>
#include <mutex>
#include <utility>
#include <vector>

namespace {

// Both through exp, so that the compiler can vectorise the loops with the C library's
// vector exp (-O3 -ffast-math). exp only ever sees -|v| (or -2|v|), so it never overflows:
// the plain 1 / (1 + exp(-v)) overflowed past v of about 88, and -ffast-math, which assumes
// no infinities, then gave NaN (inputs in the hundreds, such as raw sunspot numbers, did
// that). The sign is put back by a select, each side computed without cancellation, and no
// clamp turns a NaN pre-activation into a number.
template <typename T>
inline T sigmoid(T v) {
  const T e = std::exp(-std::fabs(v));
  const T inv = T(1) / (T(1) + e);
  return v >= T(0) ? inv : e * inv;
}

template <typename T>
inline T fast_tanh(T v) {
  const T e = std::exp(T(-2) * std::fabs(v));
  const T t = (T(1) - e) / (T(1) + e);
  return v >= T(0) ? t : -t;
}

// One step's elementwise part for `rows` rows. xp, hp: (rows, 3H) projections x W_ih^T and h W_hh^T, without
// biases; bias (4H) = [b_ir + b_hr, b_iz + b_hz, b_in, b_hn]; h: (rows, H) previous state. Writes h_next
// (rows, H) and gates (rows, 4H) = [r, z, n, hn] where hn = h W_hn^T + b_hn.
template <typename T>
void step_forward(const T* __restrict__ xp, const T* __restrict__ hp, const T* __restrict__ bias,
                  const T* __restrict__ h, T* __restrict__ h_next, T* __restrict__ gates, int64_t rows, int64_t H) {
  for (int64_t b = 0; b < rows; ++b) {
    const T* __restrict__ x_row = xp + b * 3 * H;
    const T* __restrict__ h_row = hp + b * 3 * H;
    const T* __restrict__ prev = h + b * H;
    T* __restrict__ out = h_next + b * H;
    T* __restrict__ g = gates + b * 4 * H;
#pragma omp simd
    for (int64_t j = 0; j < H; ++j) {
      const T r = sigmoid(x_row[j] + h_row[j] + bias[j]);
      const T z = sigmoid(x_row[H + j] + h_row[H + j] + bias[H + j]);
      const T hn = h_row[2 * H + j] + bias[3 * H + j];
      const T n = fast_tanh(x_row[2 * H + j] + bias[2 * H + j] + r * hn);
      out[j] = (T(1) - z) * n + z * prev[j];
      g[j] = r;
      g[H + j] = z;
      g[2 * H + j] = n;
      g[3 * H + j] = hn;
    }
  }
}

// One step's elementwise backward for `rows` rows. dh: (rows, H) gradient w.r.t. h' carried back from later
// steps, grad_out: (rows, H) w.r.t. this step's output; writes the gradients w.r.t. the input projection
// dxp (rows, 3H), the recurrent projection dhp (rows, 3H) and the direct part of the gradient w.r.t. the
// previous state, dh_prev = dh * z (the rest, dhp W_hh, is added by a matrix product).
template <typename T>
void step_backward(const T* __restrict__ dh, const T* __restrict__ grad_out, const T* __restrict__ gates,
                   const T* __restrict__ prev, T* __restrict__ dxp, T* __restrict__ dhp, T* __restrict__ dh_prev,
                   int64_t rows, int64_t H) {
  for (int64_t b = 0; b < rows; ++b) {
    const T* __restrict__ g = gates + b * 4 * H;
    const T* __restrict__ carried = dh + b * H;
    const T* __restrict__ direct = grad_out + b * H;
    const T* __restrict__ p = prev + b * H;
    T* __restrict__ dx = dxp + b * 3 * H;
    T* __restrict__ dr = dhp + b * 3 * H;
    T* __restrict__ dp = dh_prev + b * H;
#pragma omp simd
    for (int64_t j = 0; j < H; ++j) {
      const T r = g[j], z = g[H + j], n = g[2 * H + j], hn = g[3 * H + j];
      const T d = carried[j] + direct[j];
      const T dn_pre = d * (T(1) - z) * (T(1) - n * n);
      const T dz_pre = d * (p[j] - n) * z * (T(1) - z);
      const T dr_pre = dn_pre * hn * r * (T(1) - r);
      dx[j] = dr_pre;
      dx[H + j] = dz_pre;
      dx[2 * H + j] = dn_pre;
      dr[j] = dr_pre;
      dr[H + j] = dz_pre;
      dr[2 * H + j] = dn_pre * r;
      dp[j] = d * z;
    }
  }
}

// c (M, N) = a (M, K) m (K, N) [+ c], row-major, with row strides lda, ldm, ldc: one step's product for one
// thread's rows. Single precision (training) goes through oneDNN's brgemm micro-kernel, which PyTorch builds
// just in time for this CPU (AVX-512 here). Measured: a forward pass 1.15-1.8x faster than with MKL's sgemm
// for the same per-block products, and the products at about one core's peak in a profile. Where PyTorch was
// built without it, this same call falls back to its BLAS. Double precision (the tests' gradient checks)
// uses a plain loop, a row of m at a time.
template <typename T>
void product(const T* __restrict__ a, int64_t lda, const T* __restrict__ m, int64_t ldm, T* __restrict__ c,
             int64_t ldc, int64_t M, int64_t N, int64_t K, bool accumulate) {
  for (int64_t i = 0; i < M; ++i) {
    T* __restrict__ o = c + i * ldc;
    if (!accumulate) std::fill(o, o + N, T(0));
    const T* __restrict__ row = a + i * lda;
    for (int64_t k = 0; k < K; ++k) {
      const T v = row[k];
      const T* __restrict__ mk = m + k * ldm;
#pragma omp simd
      for (int64_t j = 0; j < N; ++j) o[j] += v * mk[j];
    }
  }
}

template <>
void product<float>(const float* a, int64_t lda, const float* m, int64_t ldm, float* c, int64_t ldc, int64_t M,
                    int64_t N, int64_t K, bool accumulate) {
  at::native::cpublas::brgemm(M, N, K, lda, ldm, ldc, accumulate, a, m, c);
}

// The batch rows are split into at most one block per thread, none under 8 rows (below that a second thread
// costs more to wake than it saves); body(block, first row, rows) runs once per block, blocks in parallel.
struct RowBlocks {
  int64_t size, count;
};

inline RowBlocks row_blocks(int64_t B) {
  at::internal::lazy_init_num_threads();  // a fresh thread (a dashboard's training thread) takes torch's setting
  const int64_t threads = std::max<int64_t>(1, at::get_num_threads());
  const int64_t size = std::max<int64_t>(8, (B + threads - 1) / threads);
  return {size, (B + size - 1) / size};
}

template <typename F>
void over_row_blocks(const RowBlocks& blocks, int64_t B, const F& body) {
  at::parallel_for(0, blocks.count, 1, [&](int64_t first, int64_t last) {
    for (int64_t block = first; block < last; ++block) {
      const int64_t begin = block * blocks.size;
      body(block, begin, std::min(B, begin + blocks.size) - begin);
    }
  });
}

// out (cols, rows) = in (rows, cols)^T, both contiguous.
template <typename T>
void transpose(const T* __restrict__ in, int64_t rows, int64_t cols, T* __restrict__ out) {
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < cols; ++j) out[j * rows + i] = in[i * cols + j];
  }
}

// Scratch tensors that never leave a call (the blocks' working areas, a contiguous copy of the output
// gradient) are kept between calls, one set per calling thread: a fresh multi-megabyte allocation costs a
// page fault per 4 KB on first touch, as much as the arithmetic at these sizes.
torch::Tensor& scratch(int slot, at::IntArrayRef shape, const torch::TensorOptions& options) {
  thread_local std::vector<torch::Tensor> buffers(3);
  torch::Tensor& buffer = buffers[slot];
  if (!buffer.defined() || buffer.dtype() != options.dtype()) {
    buffer = torch::empty(shape, options);
  } else {
    buffer.resize_(shape);
  }
  return buffer;
}

// Tensors that do leave a call (the states, the gates, the input gradient) are freed by PyTorch once
// autograd is done with them, and the next training step asks for the same sizes again. Large ones come
// from this pool, which keeps the last few freed blocks (at most KEEP_BLOCKS, KEEP_BYTES in all) and hands
// out a block of exactly the size asked for, already touched, so a training loop stops paying page faults.
class BlockPool {
 public:
  static constexpr size_t MIN_BYTES = size_t(1) << 20;   // smaller blocks: the C library reuses them anyway
  static constexpr size_t KEEP_BYTES = size_t(256) << 20;
  static constexpr size_t KEEP_BLOCKS = 8;

  torch::Tensor empty(at::IntArrayRef shape, const torch::TensorOptions& options) {
    size_t bytes = options.dtype().itemsize();
    for (const int64_t size : shape) bytes *= static_cast<size_t>(size);
    if (bytes < MIN_BYTES) return torch::empty(shape, options);
    void* block = take(bytes);
    // an ordinary, resizable storage (as torch::empty gives): its memory comes from the pool and goes back to it,
    // and a resize_ past it takes new memory from PyTorch's CPU allocator, like any tensor's
    auto* held = new Held{this, block, bytes};
    c10::DataPtr data(block, held, &Held::release, c10::Device(c10::DeviceType::CPU));
    c10::Storage storage(c10::Storage::use_byte_size_t(), bytes, std::move(data), at::getCPUAllocator(),
                         /*resizable=*/true);
    return torch::empty({0}, options).set_(storage, 0, shape);
  }

 private:
  struct Held {
    BlockPool* pool;
    void* block;
    size_t bytes;
    static void release(void* context) {
      auto* held = static_cast<Held*>(context);
      held->pool->give_back(held->block, held->bytes);
      delete held;
    }
  };

  void* take(size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto it = free_.rbegin(); it != free_.rend(); ++it) {
        if (it->first == bytes) {
          void* block = it->second;
          free_.erase(std::next(it).base());
          kept_ -= bytes;
          return block;
        }
      }
    }
    void* block = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    TORCH_CHECK(block != nullptr, "grutools fast GRU: out of memory allocating ", bytes, " bytes");
    return block;
  }

  void give_back(void* block, size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    free_.emplace_back(bytes, block);
    kept_ += bytes;
    while (!free_.empty() && (kept_ > KEEP_BYTES || free_.size() > KEEP_BLOCKS)) {  // oldest first
      std::free(free_.front().second);
      kept_ -= free_.front().first;
      free_.erase(free_.begin());
    }
  }

  std::mutex mutex_;
  std::vector<std::pair<size_t, void*>> free_;  // oldest first
  size_t kept_ = 0;
};

BlockPool& pool() {
  static BlockPool* instance = new BlockPool();  // never destroyed: tensors may outlive static destruction
  return *instance;
}

}  // namespace

// Every shape and dtype the loops below rely on, checked before any memory is read: FastGRU runs nn.GRU's own
// checks first (with nn.GRU's messages), so these fire only for a direct caller of the extension.
static void check_layer(const torch::Tensor& x, const torch::Tensor& h0, const torch::Tensor& w_ih, const torch::Tensor& w_hh,
                 const torch::Tensor& b_ih, const torch::Tensor& b_hh) {
  TORCH_CHECK(x.dim() == 3 && h0.dim() == 2 && w_ih.dim() == 2 && w_hh.dim() == 2,
              "grutools fast GRU: x must be (time, batch, input), h0 (batch, hidden), weights 2-D");
  TORCH_CHECK(x.device().is_cpu() && (x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble),
              "grutools fast GRU: x must be a float32 or float64 CPU tensor");
  const int64_t B = x.size(1), I = x.size(2), H = h0.size(1);
  TORCH_CHECK(h0.size(0) == B, "grutools fast GRU: h0 has ", h0.size(0), " rows for a batch of ", B);
  TORCH_CHECK(w_ih.size(0) == 3 * H && w_ih.size(1) == I, "grutools fast GRU: weight_ih must be (", 3 * H, ", ", I,
              "), got (", w_ih.size(0), ", ", w_ih.size(1), ")");
  TORCH_CHECK(w_hh.size(0) == 3 * H && w_hh.size(1) == H, "grutools fast GRU: weight_hh must be (", 3 * H, ", ", H,
              "), got (", w_hh.size(0), ", ", w_hh.size(1), ")");
  TORCH_CHECK(!b_ih.defined() || b_ih.numel() == 0 || b_ih.numel() == 3 * H, "grutools fast GRU: bias_ih must have ", 3 * H, " entries");
  TORCH_CHECK(!b_hh.defined() || b_hh.numel() == 0 || b_hh.numel() == 3 * H, "grutools fast GRU: bias_hh must have ", 3 * H, " entries");
  for (const auto* t : {&h0, &w_ih, &w_hh}) {
    TORCH_CHECK(t->scalar_type() == x.scalar_type() && t->device().is_cpu(),
                "grutools fast GRU: every tensor must be on the CPU with x's dtype (", x.scalar_type(), ")");
  }
  for (const auto* t : {&b_ih, &b_hh}) {
    TORCH_CHECK(!t->defined() || t->numel() == 0 || (t->scalar_type() == x.scalar_type() && t->device().is_cpu()),
                "grutools fast GRU: the biases must be on the CPU with x's dtype (", x.scalar_type(), ")");
  }
}

// x: (T, B, I) time-major; h0: (B, H); biases may be empty tensors (bias=False).
// Returns {output (T, B, H), gates (T, B, 4H)}.
std::vector<torch::Tensor> gru_forward(torch::Tensor x, torch::Tensor h0, torch::Tensor w_ih, torch::Tensor w_hh,
                                       torch::Tensor b_ih, torch::Tensor b_hh) {
  check_layer(x, h0, w_ih, w_hh, b_ih, b_hh);
  const int64_t T = x.size(0), B = x.size(1), I = x.size(2), H = h0.size(1);
  x = x.contiguous();
  h0 = h0.contiguous();
  auto output = pool().empty({T, B, H}, x.options());
  auto gates = pool().empty({T, B, 4 * H}, x.options());
  // both biases folded into one (the n gate's b_hn stays apart: it is multiplied by r)
  auto bias = torch::zeros({4 * H}, x.options());  // [b_ir + b_hr, b_iz + b_hz, b_in, b_hn]
  if (b_ih.numel()) bias.slice(0, 0, 3 * H).add_(b_ih);
  if (b_hh.numel()) {
    bias.slice(0, 0, 2 * H).add_(b_hh.slice(0, 0, 2 * H));
    bias.slice(0, 3 * H, 4 * H).copy_(b_hh.slice(0, 2 * H, 3 * H));
  }
  auto w_ih_t = w_ih.t().contiguous();  // (I, 3H): x W_ih^T = x w_ih_t
  auto w_hh_t = w_hh.t().contiguous();  // (H, 3H)
  const RowBlocks blocks = row_blocks(B);
  // per block: a step's projections x W_ih^T and h W_hh^T (rows x 3H each)
  torch::Tensor& work = scratch(0, {blocks.count, 2 * blocks.size * 3 * H}, x.options());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "gru_forward", [&] {
    const scalar_t* x_ptr = x.data_ptr<scalar_t>();
    scalar_t* out_ptr = output.data_ptr<scalar_t>();
    scalar_t* gate_ptr = gates.data_ptr<scalar_t>();
    const scalar_t* h0_ptr = h0.data_ptr<scalar_t>();
    const scalar_t* w_ih_ptr = w_ih_t.data_ptr<scalar_t>();
    const scalar_t* w_hh_ptr = w_hh_t.data_ptr<scalar_t>();
    const scalar_t* bias_ptr = bias.data_ptr<scalar_t>();
    scalar_t* work_ptr = work.data_ptr<scalar_t>();
    over_row_blocks(blocks, B, [&](int64_t block, int64_t begin, int64_t rows) {
      scalar_t* xp = work_ptr + block * 2 * blocks.size * 3 * H;
      scalar_t* hp = xp + rows * 3 * H;
      const scalar_t* h = h0_ptr + begin * H;
      for (int64_t t = 0; t < T; ++t) {
        const int64_t at = t * B + begin;  // first row of this block at step t
        product<scalar_t>(x_ptr + at * I, I, w_ih_ptr, 3 * H, xp, 3 * H, rows, 3 * H, I, false);
        product<scalar_t>(h, H, w_hh_ptr, 3 * H, hp, 3 * H, rows, 3 * H, H, false);
        step_forward<scalar_t>(xp, hp, bias_ptr, h, out_ptr + at * H, gate_ptr + at * 4 * H, rows, H);
        h = out_ptr + at * H;
      }
    });
  });
  return {output, gates};
}

// grad_output: (T, B, H) gradient w.r.t. every output; grad_hn: (B, H) w.r.t. the final state.
// Returns {dx, dh0, dw_ih, dw_hh, db_ih, db_hh}.
//
// Each thread takes its block of batch rows back through time on its own. Per step it computes the
// gradients w.r.t. the two projections (dxp, dhp: rows x 3H, kept in cache, never in a (T, B, 3H) array)
// and uses them at once, in four small products: dh_{t-1} += dhp W_hh, dx_t = dxp W_ih, and the weight
// gradients, summed over the block's rows, dW_ih^T += [x_t; 1]^T dxp and dW_hh^T += [h_{t-1}; 1]^T dhp
// (the row of ones gives the bias gradients). The blocks' weight gradients are added at the end.
std::vector<torch::Tensor> gru_backward(torch::Tensor grad_output, torch::Tensor grad_hn, torch::Tensor x,
                                        torch::Tensor h0, torch::Tensor w_ih, torch::Tensor w_hh,
                                        torch::Tensor output, torch::Tensor gates) {
  check_layer(x, h0, w_ih, w_hh, torch::Tensor(), torch::Tensor());
  const int64_t T = x.size(0), B = x.size(1), I = x.size(2), H = h0.size(1);
  TORCH_CHECK(grad_output.sizes() == output.sizes() && output.sizes() == at::IntArrayRef({T, B, H}) &&
                  gates.sizes() == at::IntArrayRef({T, B, 4 * H}) && grad_hn.sizes() == h0.sizes(),
              "grutools fast GRU: the backward's tensors do not fit the layer");
  for (const auto* t : {&grad_output, &grad_hn, &output, &gates}) {
    TORCH_CHECK(t->device().is_cpu() && t->scalar_type() == x.scalar_type(),
                "grutools fast GRU: the backward's tensors must be on the CPU with x's dtype");
  }
  if (!grad_output.is_contiguous()) {  // e.g. the expanded ones of out.sum(): copied into a kept buffer
    grad_output = scratch(1, {T, B, H}, x.options()).copy_(grad_output);
  }
  x = x.contiguous();
  h0 = h0.contiguous();
  output = output.contiguous();
  gates = gates.contiguous();
  auto w_ih_rows = w_ih.contiguous();  // (3H, I): dx = dxp w_ih_rows
  auto w_hh_rows = w_hh.contiguous();  // (3H, H): dhp W_hh
  auto dh = grad_hn.contiguous().clone();
  auto dx = pool().empty({T, B, I}, x.options());
  const RowBlocks blocks = row_blocks(B);
  // per block: its weight gradients, transposed and with the bias gradient as a last row:
  // [dW_ih^T; db_ih] ((I + 1) x 3H) then [dW_hh^T; db_hh] ((H + 1) x 3H)
  const int64_t sums_size = (I + 1 + H + 1) * 3 * H;
  auto sums = torch::zeros({blocks.count, sums_size}, x.options());
  // per block, a working area: dxp, dhp (rows x 3H each), dh * z (rows x H), [x_t; 1]^T ((I + 1) x rows),
  // [h_{t-1}; 1]^T ((H + 1) x rows)
  const int64_t work_size = blocks.size * (3 * H + 3 * H + H + (I + 1) + (H + 1));
  torch::Tensor& work = scratch(2, {blocks.count, work_size}, x.options());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "gru_backward", [&] {
    scalar_t* dh_ptr = dh.data_ptr<scalar_t>();
    scalar_t* dx_ptr = dx.data_ptr<scalar_t>();
    const scalar_t* grad_ptr = grad_output.data_ptr<scalar_t>();
    const scalar_t* gate_ptr = gates.data_ptr<scalar_t>();
    const scalar_t* out_ptr = output.data_ptr<scalar_t>();
    const scalar_t* h0_ptr = h0.data_ptr<scalar_t>();
    const scalar_t* x_ptr = x.data_ptr<scalar_t>();
    const scalar_t* w_ih_ptr = w_ih_rows.data_ptr<scalar_t>();
    const scalar_t* w_hh_ptr = w_hh_rows.data_ptr<scalar_t>();
    scalar_t* sums_ptr = sums.data_ptr<scalar_t>();
    scalar_t* work_ptr = work.data_ptr<scalar_t>();
    over_row_blocks(blocks, B, [&](int64_t block, int64_t begin, int64_t rows) {
      scalar_t* dxp = work_ptr + block * work_size;
      scalar_t* dhp = dxp + rows * 3 * H;
      scalar_t* skip = dhp + rows * 3 * H;  // dh * z, the part of dh_{t-1} that skips W_hh
      scalar_t* x_t = skip + rows * H;      // (I + 1, rows)
      scalar_t* h_t = x_t + (I + 1) * rows;  // (H + 1, rows)
      std::fill(x_t + I * rows, x_t + (I + 1) * rows, scalar_t(1));
      std::fill(h_t + H * rows, h_t + (H + 1) * rows, scalar_t(1));
      scalar_t* dw_ih = sums_ptr + block * sums_size;  // (I + 1, 3H)
      scalar_t* dw_hh = dw_ih + (I + 1) * 3 * H;        // (H + 1, 3H)
      scalar_t* carried = dh_ptr + begin * H;
      for (int64_t t = T - 1; t >= 0; --t) {
        const int64_t at = t * B + begin;
        const scalar_t* prev = t > 0 ? out_ptr + (at - B) * H : h0_ptr + begin * H;
        step_backward<scalar_t>(carried, grad_ptr + at * H, gate_ptr + at * 4 * H, prev, dxp, dhp, skip, rows, H);
        // dh_{t-1} = (dh + grad_output_t) * z + dhp W_hh, written over dh's rows
        product<scalar_t>(dhp, 3 * H, w_hh_ptr, H, skip, H, rows, H, 3 * H, true);
        std::copy(skip, skip + rows * H, carried);
        product<scalar_t>(dxp, 3 * H, w_ih_ptr, I, dx_ptr + at * I, I, rows, I, 3 * H, false);
        transpose<scalar_t>(x_ptr + at * I, rows, I, x_t);
        product<scalar_t>(x_t, rows, dxp, 3 * H, dw_ih, 3 * H, I + 1, 3 * H, rows, true);
        transpose<scalar_t>(prev, rows, H, h_t);
        product<scalar_t>(h_t, rows, dhp, 3 * H, dw_hh, 3 * H, H + 1, 3 * H, rows, true);
      }
    });
  });
  auto total = sums.sum(0);
  auto dw_ih = total.slice(0, 0, I * 3 * H).view({I, 3 * H}).t().contiguous();
  auto db_ih = total.slice(0, I * 3 * H, (I + 1) * 3 * H);
  auto dw_hh = total.slice(0, (I + 1) * 3 * H, (I + 1 + H) * 3 * H).view({H, 3 * H}).t().contiguous();
  auto db_hh = total.slice(0, (I + 1 + H) * 3 * H, sums_size);
  return {dx, dh, dw_ih, dw_hh, db_ih, db_hh};
}

// Both release Python's GIL while they compute (they touch no Python object), as PyTorch's own operators do:
// a dashboard trains in a background thread while its main thread draws, and must not be held up.
PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &gru_forward, "fused GRU layer, forward (CPU)", py::call_guard<py::gil_scoped_release>());
  m.def("backward", &gru_backward, "fused GRU layer, backward (CPU)", py::call_guard<py::gil_scoped_release>());
}
