// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78). Every record a producer frames goes
// through it (~250 bytes each), so on x86-64 it runs three independent crc32 streams and joins
// them with one carry-less multiply: the crc32 instruction's latency is 3 cycles and its
// throughput 1 a cycle, so a single chain leaves two thirds of it idle (250 bytes: 31 ns in one
// chain, 16 ns in three, on the EPYC this was measured on).
//
// The functions below work on the raw register (no inversion); crc32c() applies the zlib-style
// convention (~seed in, ~register out) once, so that crc32c(b, seed = crc32c(a)) == crc32c(a+b).
#include "spool/crc32c.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>

#include "spool/format.hpp"

#if !defined(HTEVENTS_PORTABLE) && defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HTEVENTS_CRC32C_X86 1
#include <immintrin.h>
#elif !defined(HTEVENTS_PORTABLE) && defined(__aarch64__) && defined(__ARM_FEATURE_CRC32) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HTEVENTS_CRC32C_ARM 1
#include <arm_acle.h>
#endif

namespace htevents::inline v0::detail::spool {
namespace {

using Update = std::uint32_t (*)(std::uint32_t crc, unsigned char const* p, std::size_t n) noexcept;
using Three = void (*)(CrcJob (&jobs)[3]) noexcept;

// --- slicing-by-8: table k advances a byte that is followed by k more bytes ---
using Tables = std::array<std::array<std::uint32_t, 256>, 8>;

constexpr Tables make_tables() noexcept {
  Tables t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int bit = 0; bit < 8; ++bit) c = (c >> 1) ^ ((c & 1U) != 0 ? 0x82F63B78U : 0U);
    t[0][i] = c;
  }
  for (std::size_t k = 1; k < t.size(); ++k)
    for (std::size_t i = 0; i < 256; ++i) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFFU];
  return t;
}
constexpr Tables tables = make_tables();
static_assert(tables[0][1] == 0xF26B8303U, "the Castagnoli table");

// Little-endian by construction, whatever the host: compilers turn this into one load.
std::uint32_t load_le32(unsigned char const* p) noexcept {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24;
}

std::uint32_t table_update(std::uint32_t crc, unsigned char const* p, std::size_t n) noexcept {
  auto const& t = tables;
  for (; n >= 8; n -= 8, p += 8) {
    std::uint32_t const lo = load_le32(p) ^ crc;
    std::uint32_t const hi = load_le32(p + 4);
    crc = t[7][lo & 0xFFU] ^ t[6][(lo >> 8) & 0xFFU] ^ t[5][(lo >> 16) & 0xFFU] ^ t[4][lo >> 24] ^ t[3][hi & 0xFFU] ^
          t[2][(hi >> 8) & 0xFFU] ^ t[1][(hi >> 16) & 0xFFU] ^ t[0][hi >> 24];
  }
  for (; n > 0; --n, ++p) crc = (crc >> 8) ^ t[0][(crc ^ *p) & 0xFFU];
  return crc;
}

#if defined(HTEVENTS_CRC32C_X86)

// The three streams of a round are at most this many 8-byte words each; longer input takes
// several rounds. Below three_way_min_words in all, the join costs more than it saves.
constexpr std::size_t max_stream_words = 256;
constexpr std::size_t three_way_min_words = 10;

// x_pow[k] = x^(64 k) mod P, reflected: multiplying a register by it is what feeding it k zero
// words would do. The join shifts the first two streams over the ones that follow them.
using Powers = std::array<std::uint32_t, 2 * max_stream_words + 3>;
constexpr Powers make_powers() noexcept {
  Powers p{};
  std::uint32_t r = 0x80000000U;  // the polynomial 1, reflected
  for (auto& power : p) {
    power = r;
    for (int byte = 0; byte < 8; ++byte) r = (r >> 8) ^ tables[0][r & 0xFFU];
  }
  return p;
}
constexpr Powers x_pow = make_powers();

__attribute__((target("sse4.2"), always_inline)) inline std::uint64_t load64(unsigned char const* p) noexcept {
  std::uint64_t w = 0;
  std::memcpy(&w, p, sizeof w);
  return w;
}

// The 0-7 bytes that are not a whole word (n < 8), one instruction per power of two. Inlined:
// it runs first on every record.
__attribute__((target("sse4.2"), always_inline)) inline std::uint32_t sse42_bytes(std::uint32_t crc,
                                                                                  unsigned char const* p,
                                                                                  std::size_t n) noexcept {
  if ((n & 4U) != 0) {
    std::uint32_t w = 0;
    std::memcpy(&w, p, sizeof w);
    crc = _mm_crc32_u32(crc, w);
    p += 4;
  }
  if ((n & 2U) != 0) {
    std::uint16_t w = 0;
    std::memcpy(&w, p, sizeof w);
    crc = _mm_crc32_u16(crc, w);
    p += 2;
  }
  if ((n & 1U) != 0) crc = _mm_crc32_u8(crc, *p);
  return crc;
}

__attribute__((target("sse4.2"))) std::uint32_t sse42_update(std::uint32_t crc, unsigned char const* p,
                                                             std::size_t n) noexcept {
  crc = sse42_bytes(crc, p, n & 7U);
  p += n & 7U;
  std::uint64_t c = crc;
  for (std::size_t words = n / 8; words > 0; --words, p += 8) c = _mm_crc32_u64(c, load64(p));
  return static_cast<std::uint32_t>(c);
}

// a * x_pow[ka] + b * x_pow[kb] mod P: a 32x32 carry-less product is 63 bits, one bit short of
// the reflected 64-bit value that crc32 reduces, hence the shift.
__attribute__((target("sse4.2,pclmul"), always_inline)) inline std::uint32_t shift_two(std::uint32_t a, std::size_t ka,
                                                                                       std::uint32_t b,
                                                                                       std::size_t kb) noexcept {
  __m128i const pa =
      _mm_clmulepi64_si128(_mm_cvtsi32_si128(static_cast<int>(a)), _mm_cvtsi32_si128(static_cast<int>(x_pow[ka])), 0);
  __m128i const pb =
      _mm_clmulepi64_si128(_mm_cvtsi32_si128(static_cast<int>(b)), _mm_cvtsi32_si128(static_cast<int>(x_pow[kb])), 0);
  auto const v = static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm_xor_si128(pa, pb))) << 1;
  return _mm_crc32_u32(0, static_cast<std::uint32_t>(v)) ^ static_cast<std::uint32_t>(v >> 32);
}

// Stream a carries the running crc (and the odd bytes first); b and c start from 0 and c takes
// the 0-2 words left over, which it runs while a and b are joined.
__attribute__((target("sse4.2,pclmul"))) std::uint32_t sse42_pclmul_update(std::uint32_t crc, unsigned char const* p,
                                                                           std::size_t n) noexcept {
  crc = sse42_bytes(crc, p, n & 7U);
  p += n & 7U;
  std::uint64_t a = crc;
  std::size_t words = n / 8;
  while (words >= three_way_min_words) {
    std::size_t k = words / 3;
    std::size_t extra = words % 3;
    if (k > max_stream_words) {
      k = max_stream_words;
      extra = 0;
    }
    std::uint64_t b = 0;
    std::uint64_t c = 0;
    unsigned char const* q = p + 8 * k;
    unsigned char const* r = q + 8 * k;
    // One index for the three streams, two words of each per round: 9 instructions per 6
    // words (the loads fold into crc32's memory operand) where a pointer per stream and one
    // word per round took 16. A record (~250 bytes) is 31 words, framed on every enqueue.
    std::size_t i = 0;
    for (; i + 2 <= k; i += 2) {
      a = _mm_crc32_u64(a, load64(p + 8 * i));
      b = _mm_crc32_u64(b, load64(q + 8 * i));
      c = _mm_crc32_u64(c, load64(r + 8 * i));
      a = _mm_crc32_u64(a, load64(p + 8 * i + 8));
      b = _mm_crc32_u64(b, load64(q + 8 * i + 8));
      c = _mm_crc32_u64(c, load64(r + 8 * i + 8));
    }
    if (i < k) {
      a = _mm_crc32_u64(a, load64(p + 8 * i));
      b = _mm_crc32_u64(b, load64(q + 8 * i));
      c = _mm_crc32_u64(c, load64(r + 8 * i));
    }
    r += 8 * k;
    for (std::size_t j = 0; j < extra; ++j, r += 8) c = _mm_crc32_u64(c, load64(r));
    a = shift_two(static_cast<std::uint32_t>(a), 2 * k + extra, static_cast<std::uint32_t>(b), k + extra) ^
        static_cast<std::uint32_t>(c);
    p = r;
    words -= 3 * k + extra;
  }
  for (; words > 0; --words, p += 8) a = _mm_crc32_u64(a, load64(p));
  return static_cast<std::uint32_t>(a);
}

// One buffer's chain in sse42_three: where its words start, how many, its register.
struct Chain {
  unsigned char const* p;
  std::size_t words;
  std::uint64_t crc;
};

// Its odd bytes first (as sse42_update does); inlined, so the three chains stay in registers.
__attribute__((target("sse4.2"), always_inline)) inline Chain start_chain(CrcJob const& job) noexcept {
  auto const* bytes = static_cast<unsigned char const*>(job.data);
  std::size_t const odd = job.size & 7U;
  return {bytes + odd, job.size / 8, sse42_bytes(~job.seed, bytes, odd)};
}

// The words after the `done` that all three had, on its own: inline when they are few (records
// of one workload differ by a few bytes), through `rest` (the multi-stream update) otherwise.
template <Update rest>
__attribute__((target("sse4.2"), always_inline)) inline std::uint32_t finish_chain(Chain chain,
                                                                                   std::size_t done) noexcept {
  std::size_t const left = chain.words - done;
  unsigned char const* q = chain.p + 8 * done;
  if (left >= three_way_min_words) return ~rest(static_cast<std::uint32_t>(chain.crc), q, 8 * left);
  for (unsigned char const* const end = q + 8 * left; q != end; q += 8) chain.crc = _mm_crc32_u64(chain.crc, load64(q));
  return ~static_cast<std::uint32_t>(chain.crc);
}

// Three buffers, one chain each: the words all three have, four of each per round (12 crc32,
// their loads folded in, and 3 instructions of loop), then what is left of each on its own.
template <Update rest>
__attribute__((target("sse4.2"))) void sse42_three(CrcJob (&jobs)[3]) noexcept {
  Chain a = start_chain(jobs[0]);
  Chain b = start_chain(jobs[1]);
  Chain c = start_chain(jobs[2]);
  std::size_t const common = std::min({a.words, b.words, c.words});
  // One byte index for the three buffers: a single increment per round, each load folded into
  // its crc32 as base + index.
  std::size_t const common_bytes = 8 * common;
  std::uint64_t ca = a.crc, cb = b.crc, cc = c.crc;
  std::size_t i = 0;
  for (; i + 32 <= common_bytes; i += 32) {
    ca = _mm_crc32_u64(ca, load64(a.p + i));
    cb = _mm_crc32_u64(cb, load64(b.p + i));
    cc = _mm_crc32_u64(cc, load64(c.p + i));
    ca = _mm_crc32_u64(ca, load64(a.p + i + 8));
    cb = _mm_crc32_u64(cb, load64(b.p + i + 8));
    cc = _mm_crc32_u64(cc, load64(c.p + i + 8));
    ca = _mm_crc32_u64(ca, load64(a.p + i + 16));
    cb = _mm_crc32_u64(cb, load64(b.p + i + 16));
    cc = _mm_crc32_u64(cc, load64(c.p + i + 16));
    ca = _mm_crc32_u64(ca, load64(a.p + i + 24));
    cb = _mm_crc32_u64(cb, load64(b.p + i + 24));
    cc = _mm_crc32_u64(cc, load64(c.p + i + 24));
  }
  for (; i < common_bytes; i += 8) {
    ca = _mm_crc32_u64(ca, load64(a.p + i));
    cb = _mm_crc32_u64(cb, load64(b.p + i));
    cc = _mm_crc32_u64(cc, load64(c.p + i));
  }
  a.crc = ca;
  b.crc = cb;
  c.crc = cc;
  jobs[0].crc = finish_chain<rest>(a, common);
  jobs[1].crc = finish_chain<rest>(b, common);
  jobs[2].crc = finish_chain<rest>(c, common);
}

#elif defined(HTEVENTS_CRC32C_ARM)

std::uint32_t arm_update(std::uint32_t crc, unsigned char const* p, std::size_t n) noexcept {
  for (; n >= 8; n -= 8, p += 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, p, sizeof w);
    crc = __crc32cd(crc, w);
  }
  if ((n & 4U) != 0) {
    std::uint32_t w = 0;
    std::memcpy(&w, p, sizeof w);
    crc = __crc32cw(crc, w);
    p += 4;
  }
  if ((n & 2U) != 0) {
    std::uint16_t w = 0;
    std::memcpy(&w, p, sizeof w);
    crc = __crc32ch(crc, w);
    p += 2;
  }
  if ((n & 1U) != 0) crc = __crc32cb(crc, *p);
  return crc;
}

#endif

// Anywhere without the x86 three-chain version: one buffer after the other.
void three_in_turn(CrcJob (&jobs)[3]) noexcept {
  for (CrcJob& job : jobs) job.crc = crc32c(job.data, job.size, job.seed);
}

struct Implementation {
  Update update;
  Three three;
  std::string_view name;
};

Implementation choose() noexcept {
#if defined(HTEVENTS_CRC32C_X86)
  // Needed when this runs before the constructors (a static initializer elsewhere that calls
  // crc32c first); harmless otherwise.
  __builtin_cpu_init();
  if (__builtin_cpu_supports("sse4.2")) {
    // Every x86-64 with SSE4.2 but the first Nehalems has PCLMULQDQ too.
    if (__builtin_cpu_supports("pclmul")) {
      return {sse42_pclmul_update, sse42_three<sse42_pclmul_update>, "sse4.2+pclmul"};
    }
    return {sse42_update, sse42_three<sse42_update>, "sse4.2"};
  }
#elif defined(HTEVENTS_CRC32C_ARM)
  // __ARM_FEATURE_CRC32 says the build targets CPUs that have it: no run-time check.
  return {arm_update, three_in_turn, "armv8-crc"};
#endif
  return {table_update, three_in_turn, "table"};
}

// Decided once (a static local: thread-safe); crc32c() reads the choice through `update_path`.
Implementation const& implementation() noexcept {
  static Implementation const chosen = choose();
  return chosen;
}

// The first call through update_path lands here, chooses, and points update_path at the choice:
// every later crc32c() is one relaxed load and an indirect call, without the static local's
// guard check (a record's frame is checksummed on every enqueue with a spool). Constant-
// initialised, so it is right even before the constructors run; threads racing through here
// store the same pointer.
std::uint32_t choose_then_update(std::uint32_t crc, unsigned char const* p, std::size_t n) noexcept;
constinit std::atomic<Update> update_path{choose_then_update};
std::uint32_t choose_then_update(std::uint32_t crc, unsigned char const* p, std::size_t n) noexcept {
  Update const chosen = implementation().update;
  update_path.store(chosen, std::memory_order_relaxed);
  return chosen(crc, p, n);
}

}  // namespace

std::uint32_t crc32c(void const* data, std::size_t size, std::uint32_t seed) noexcept {
  return ~update_path.load(std::memory_order_relaxed)(~seed, static_cast<unsigned char const*>(data), size);
}

void crc32c_three(CrcJob (&jobs)[3]) noexcept { implementation().three(jobs); }

std::uint32_t crc32c_portable(void const* data, std::size_t size, std::uint32_t seed) noexcept {
  return ~table_update(~seed, static_cast<unsigned char const*>(data), size);
}

std::string_view crc32c_implementation() noexcept { return implementation().name; }

}  // namespace htevents::inline v0::detail::spool
