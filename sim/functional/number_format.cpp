#include "sim/functional/number_format.h"

#include "arch/support/error.h"

namespace cascade {

NumberFormat parse_number_format(const std::string& name) {
  if (name == "fp64") return NumberFormat::FP64;
  if (name == "fp32") return NumberFormat::FP32;
  if (name == "bf16") return NumberFormat::BF16;
  if (name == "fp16") return NumberFormat::FP16;
  throw Error("unknown number format '" + name + "' (valid: fp64, fp32, bf16, fp16)");
}

const char* to_string(NumberFormat format) {
  switch (format) {
    case NumberFormat::FP64: return "fp64";
    case NumberFormat::FP32: return "fp32";
    case NumberFormat::BF16: return "bf16";
    case NumberFormat::FP16: return "fp16";
  }
  return "?";
}

double round_to(NumberFormat format, double x) {
  switch (format) {
    case NumberFormat::FP64: return round_as<NumberFormat::FP64>(x);
    case NumberFormat::FP32: return round_as<NumberFormat::FP32>(x);
    case NumberFormat::BF16: return round_as<NumberFormat::BF16>(x);
    case NumberFormat::FP16: return round_as<NumberFormat::FP16>(x);
  }
  return x;
}

double hardware_exp(double x, NumberFormat compute) {
  switch (compute) {
    case NumberFormat::FP64: return hardware_exp_as<NumberFormat::FP64>(x);
    case NumberFormat::FP32: return hardware_exp_as<NumberFormat::FP32>(x);
    case NumberFormat::BF16: return hardware_exp_as<NumberFormat::BF16>(x);
    case NumberFormat::FP16: return hardware_exp_as<NumberFormat::FP16>(x);
  }
  return x;
}

double fast_exp(double x, NumberFormat compute) {
  switch (compute) {
    case NumberFormat::FP64: return fast_exp_as<NumberFormat::FP64>(x);
    case NumberFormat::FP32: return fast_exp_as<NumberFormat::FP32>(x);
    case NumberFormat::BF16: return fast_exp_as<NumberFormat::BF16>(x);
    case NumberFormat::FP16: return fast_exp_as<NumberFormat::FP16>(x);
  }
  return x;
}

ExpMode parse_exp_mode(const std::string& name) {
  if (name == "exact") return ExpMode::Exact;
  if (name == "hardware") return ExpMode::Hardware;
  if (name == "fast") return ExpMode::Fast;
  throw Error("unknown exp mode '" + name + "' (valid: exact, hardware, fast)");
}

const char* to_string(ExpMode mode) {
  switch (mode) {
    case ExpMode::Exact: return "exact";
    case ExpMode::Hardware: return "hardware";
    case ExpMode::Fast: return "fast";
  }
  return "?";
}

double exp_in(ExpMode mode, NumberFormat compute, double x) {
  if (mode == ExpMode::Hardware) return hardware_exp(x, compute);
  if (mode == ExpMode::Fast) return fast_exp(x, compute);
  return round_to(compute, std::exp(x));
}

double sigmoid_in(ExpMode mode, NumberFormat compute, double x) {
  if (std::isnan(x)) return x;
  return round_to(compute, 1.0 / round_to(compute, 1.0 + exp_in(mode, compute, -x)));
}

double softplus_in(ExpMode mode, NumberFormat compute, double x) {
  if (std::isnan(x)) return x;
  const double tail = round_to(compute, std::log1p(exp_in(mode, compute, -std::fabs(x))));
  return round_to(compute, (x > 0 ? x : 0.0) + tail);
}

double tanh_in(NumberFormat compute, double x) { return round_to(compute, std::tanh(x)); }

}  // namespace cascade
