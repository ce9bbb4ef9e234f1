// A fused CPU GRU layer, forward and backward, for grutools.FastGRU.
//
// Why: PyTorch's CPU nn.GRU runs each time step as several separate tensor
// operations (and autograd records each of them), while nn.LSTM has a fused
// oneDNN kernel. Here a whole layer is one C++ call: the input projection of all
// steps is one matrix product; each step is one small matrix product (h W_hh^T)
// and one loop over (batch x hidden) that computes r, z, n and h' together; the
// backward pass is the mirror image, with the weight gradients summed in three
// large matrix products at the end. The gates are kept for the backward pass and
// returned, so grutools.trace gets them for free.
//
// PyTorch's equations (rows of W_* stacked as r, z, n):
//   r = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr)
//   z = sigmoid(x W_iz^T + b_iz + h W_hz^T + b_hz)
//   n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))
//   h' = (1 - z) * n + z * h
#include <torch/extension.h>

#include <cmath>
#include <vector>

namespace {

// Both through exp, so that the compiler can vectorise the loops with the C library's
// vector exp (-O3 -ffast-math): tanh(v) = 2 sigmoid(2v) - 1.
template <typename T>
inline T sigmoid(T v) {
  return T(1) / (T(1) + std::exp(-v));
}

template <typename T>
inline T fast_tanh(T v) {
  return T(2) / (T(1) + std::exp(T(-2) * v)) - T(1);
}

// One step's elementwise part. xp, hp: (B, 3H) projections; h: (B, H) previous state.
// Writes h_next (B, H) and gates (B, 4H) = [r, z, n, hn] where hn = h W_hn^T + b_hn.
template <typename T>
void step_forward(const T* __restrict__ xp, const T* __restrict__ hp, const T* __restrict__ h, T* __restrict__ h_next,
                  T* __restrict__ gates, int64_t B, int64_t H) {
  for (int64_t b = 0; b < B; ++b) {
    const T* __restrict__ x_row = xp + b * 3 * H;
    const T* __restrict__ h_row = hp + b * 3 * H;
    const T* __restrict__ prev = h + b * H;
    T* __restrict__ out = h_next + b * H;
    T* __restrict__ g = gates + b * 4 * H;
#pragma omp simd
    for (int64_t j = 0; j < H; ++j) {
      const T r = sigmoid(x_row[j] + h_row[j]);
      const T z = sigmoid(x_row[H + j] + h_row[H + j]);
      const T hn = h_row[2 * H + j];
      const T n = fast_tanh(x_row[2 * H + j] + r * hn);
      out[j] = (T(1) - z) * n + z * prev[j];
      g[j] = r;
      g[H + j] = z;
      g[2 * H + j] = n;
      g[3 * H + j] = hn;
    }
  }
}

// One step's elementwise backward. dh: (B, H) gradient w.r.t. h'; writes the gradients
// w.r.t. the input projection dxp (B, 3H), the recurrent projection dhp (B, 3H) and the
// direct part of the gradient w.r.t. the previous state, dh_prev = dh * z.
template <typename T>
void step_backward(const T* __restrict__ dh, const T* __restrict__ grad_out, const T* __restrict__ gates,
                   const T* __restrict__ prev, T* __restrict__ dxp, T* __restrict__ dhp, T* __restrict__ dh_prev,
                   int64_t B, int64_t H) {
  for (int64_t b = 0; b < B; ++b) {
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

// out (B, N) = init + a (B, K) m (K, N), every matrix row-major and contiguous; init is a row (N) broadcast
// over the batch or a matrix (B, N). For the dashboards' smallest layers one step's product is a few
// thousand multiply-adds, less than the few microseconds a call through ATen into the BLAS costs, so
// below SMALL_PRODUCT multiply-adds the step uses this loop (a row of m at a time, vectorised over N).
constexpr int64_t SMALL_PRODUCT = 32 * 32 * 96;  // measured: faster up to batch 32 x 32 units, slower from 64 x 24

inline bool uses_small_product(int64_t B, int64_t H) {
  return B * H * 3 * H <= SMALL_PRODUCT;
}

template <typename T>
void small_product(const T* __restrict__ a, const T* __restrict__ m, const T* __restrict__ init, bool init_rows,
                   T* __restrict__ out, int64_t B, int64_t K, int64_t N) {
  for (int64_t b = 0; b < B; ++b) {
    T* __restrict__ o = out + b * N;
    const T* __restrict__ start = init_rows ? init + b * N : init;
#pragma omp simd
    for (int64_t j = 0; j < N; ++j) o[j] = start[j];
    const T* __restrict__ row = a + b * K;
    for (int64_t k = 0; k < K; ++k) {
      const T v = row[k];
      const T* __restrict__ mk = m + k * N;
#pragma omp simd
      for (int64_t j = 0; j < N; ++j) o[j] += v * mk[j];
    }
  }
}

// Scratch tensors that never leave a call (projections and their gradients) are kept
// between calls, one set per thread: a fresh multi-megabyte allocation costs a page
// fault per 4 KB on first touch, as much as the arithmetic at these sizes.
torch::Tensor& scratch(int slot, at::IntArrayRef shape, const torch::TensorOptions& options) {
  thread_local std::vector<torch::Tensor> buffers(4);
  torch::Tensor& buffer = buffers[slot];
  if (!buffer.defined() || buffer.dtype() != options.dtype()) {
    buffer = torch::empty(shape, options);
  } else {
    buffer.resize_(shape);
  }
  return buffer;
}

}  // namespace

// x: (T, B, I) time-major; h0: (B, H); biases may be empty tensors (bias=False).
// Returns {output (T, B, H), gates (T, B, 4H)}.
std::vector<torch::Tensor> gru_forward(torch::Tensor x, torch::Tensor h0, torch::Tensor w_ih, torch::Tensor w_hh,
                                       torch::Tensor b_ih, torch::Tensor b_hh) {
  TORCH_CHECK(x.dim() == 3, "x must be (time, batch, input)");
  const int64_t T = x.size(0), B = x.size(1), H = h0.size(1);
  x = x.contiguous();
  h0 = h0.contiguous();
  torch::Tensor& xp = scratch(0, {T, B, 3 * H}, x.options());
  torch::matmul_out(xp, x, w_ih.t());
  if (b_ih.numel()) xp.add_(b_ih);
  auto output = torch::empty({T, B, H}, x.options());
  auto gates = torch::empty({T, B, 4 * H}, x.options());
  auto hp = torch::empty({B, 3 * H}, x.options());
  auto w_hh_t = w_hh.t();
  torch::Tensor bias = b_hh.numel() ? b_hh : torch::zeros({3 * H}, x.options());
  const bool small = uses_small_product(B, H);
  torch::Tensor w_hh_rows = small ? w_hh_t.contiguous() : w_hh_t;  // (H, 3H): one row per state unit
  bias = bias.contiguous();
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "gru_forward", [&] {
    const scalar_t* xp_ptr = xp.data_ptr<scalar_t>();
    scalar_t* out_ptr = output.data_ptr<scalar_t>();
    scalar_t* gate_ptr = gates.data_ptr<scalar_t>();
    scalar_t* hp_ptr = hp.data_ptr<scalar_t>();
    const scalar_t* h_ptr = h0.data_ptr<scalar_t>();
    const scalar_t* w_ptr = small ? w_hh_rows.data_ptr<scalar_t>() : nullptr;
    const scalar_t* bias_ptr = bias.data_ptr<scalar_t>();
    for (int64_t t = 0; t < T; ++t) {
      if (small) {
        small_product<scalar_t>(h_ptr, w_ptr, bias_ptr, false, hp_ptr, B, H, 3 * H);
      } else {
        torch::addmm_out(hp, bias, t ? output[t - 1] : h0, w_hh_t);
      }
      step_forward<scalar_t>(xp_ptr + t * B * 3 * H, hp_ptr, h_ptr, out_ptr + t * B * H, gate_ptr + t * B * 4 * H, B, H);
      h_ptr = out_ptr + t * B * H;
    }
  });
  return {output, gates};
}

// grad_output: (T, B, H) gradient w.r.t. every output; grad_hn: (B, H) w.r.t. the final state.
// Returns {dx, dh0, dw_ih, dw_hh, db_ih, db_hh}.
std::vector<torch::Tensor> gru_backward(torch::Tensor grad_output, torch::Tensor grad_hn, torch::Tensor x,
                                        torch::Tensor h0, torch::Tensor w_ih, torch::Tensor w_hh,
                                        torch::Tensor output, torch::Tensor gates) {
  const int64_t T = x.size(0), B = x.size(1), H = h0.size(1);
  grad_output = grad_output.contiguous();
  x = x.contiguous();
  h0 = h0.contiguous();
  torch::Tensor& dxp = scratch(1, {T, B, 3 * H}, x.options());
  torch::Tensor& dhp = scratch(2, {T, B, 3 * H}, x.options());
  auto dh = grad_hn.contiguous().clone();
  auto dh_prev = torch::empty({B, H}, x.options());
  const bool small = uses_small_product(B, H);
  output = output.contiguous();
  gates = gates.contiguous();
  auto w_hh_rows = w_hh.contiguous();  // (3H, H): one row per projection
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "gru_backward", [&] {
    scalar_t* dh_ptr = dh.data_ptr<scalar_t>();
    scalar_t* dh_prev_ptr = dh_prev.data_ptr<scalar_t>();
    const scalar_t* grad_ptr = grad_output.data_ptr<scalar_t>();
    const scalar_t* gate_ptr = gates.data_ptr<scalar_t>();
    const scalar_t* out_ptr = output.data_ptr<scalar_t>();
    const scalar_t* h0_ptr = h0.data_ptr<scalar_t>();
    scalar_t* dxp_ptr = dxp.data_ptr<scalar_t>();
    scalar_t* dhp_ptr = dhp.data_ptr<scalar_t>();
    const scalar_t* w_ptr = w_hh_rows.data_ptr<scalar_t>();
    for (int64_t t = T - 1; t >= 0; --t) {
      const scalar_t* prev = t > 0 ? out_ptr + (t - 1) * B * H : h0_ptr;
      scalar_t* dhp_t = dhp_ptr + t * B * 3 * H;
      step_backward<scalar_t>(dh_ptr, grad_ptr + t * B * H, gate_ptr + t * B * 4 * H, prev, dxp_ptr + t * B * 3 * H,
                              dhp_t, dh_prev_ptr, B, H);
      // dh_{t-1} = (dh + grad_output_t) * z + dhp_t W_hh
      if (small) {
        small_product<scalar_t>(dhp_t, w_ptr, dh_prev_ptr, true, dh_ptr, B, 3 * H, H);
      } else {
        torch::addmm_out(dh, dh_prev, dhp[t], w_hh_rows);
      }
    }
  });
  torch::Tensor& previous = scratch(3, {T, B, H}, x.options());
  previous[0].copy_(h0);
  if (T > 1) previous.slice(0, 1, T).copy_(output.slice(0, 0, T - 1));
  auto dxp_flat = dxp.reshape({T * B, 3 * H});
  auto dhp_flat = dhp.reshape({T * B, 3 * H});
  auto dx = torch::matmul(dxp, w_ih);
  auto dw_ih = dxp_flat.t().mm(x.reshape({T * B, x.size(2)}));
  auto dw_hh = dhp_flat.t().mm(previous.reshape({T * B, H}));
  return {dx, dh, dw_ih, dw_hh, dxp_flat.sum(0), dhp_flat.sum(0)};
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &gru_forward, "fused GRU layer, forward (CPU)");
  m.def("backward", &gru_backward, "fused GRU layer, backward (CPU)");
}
