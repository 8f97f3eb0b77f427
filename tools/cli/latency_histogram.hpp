#pragma once
// The per-call latency histogram of `htevents-cpp load`: one per sending thread, merged at the end.

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace htevents::cli {

// Log-linear: values below 2^sub_bits (ticks) are exact, above that 2^sub_bits buckets per power of
// two (relative error under 1/2^sub_bits = 3%). Fixed size, recorded without allocating.
class Histogram {
 public:
  static constexpr unsigned sub_bits = 5;
  static constexpr unsigned sub = 1u << sub_bits;
  static constexpr std::size_t buckets = (64 - sub_bits + 1) * sub;

  void record(std::uint64_t ns) noexcept {
    ++counts_[index(ns)];
    max_ = std::max(max_, ns);
    ++total_;
  }
  void merge(Histogram const& other) noexcept {
    for (std::size_t k = 0; k < buckets; ++k) counts_[k] += other.counts_[k];
    max_ = std::max(max_, other.max_);
    total_ += other.total_;
  }
  // The upper bound of the bucket holding the q-quantile (0 < q <= 1).
  std::uint64_t quantile(double q) const noexcept {
    if (total_ == 0) return 0;
    auto const rank = static_cast<std::uint64_t>(q * static_cast<double>(total_) + 0.5);
    std::uint64_t seen = 0;
    for (std::size_t k = 0; k < buckets; ++k) {
      seen += counts_[k];
      if (seen >= std::max<std::uint64_t>(rank, 1)) return std::min(upper(k), max_);
    }
    return max_;
  }
  std::uint64_t max() const noexcept { return max_; }

 private:
  static std::size_t index(std::uint64_t v) noexcept {
    if (v < sub) return static_cast<std::size_t>(v);
    unsigned const msb = 63u - static_cast<unsigned>(std::countl_zero(v));  // >= sub_bits
    unsigned const shift = msb - sub_bits;
    std::uint64_t const mantissa = (v >> shift) - sub;  // 0..sub-1
    return (shift + 1) * sub + static_cast<std::size_t>(mantissa);
  }
  static std::uint64_t upper(std::size_t k) noexcept {
    if (k < sub) return k;
    std::size_t const shift = k / sub - 1;
    std::uint64_t const mantissa = k % sub + sub;
    return ((mantissa + 1) << shift) - 1;
  }

  std::array<std::uint64_t, buckets> counts_{};
  std::uint64_t max_ = 0;
  std::uint64_t total_ = 0;
};

}  // namespace htevents::cli
