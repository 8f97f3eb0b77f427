#include "batch/batch_ids.hpp"

#include "message/json_primitives.hpp"

namespace htevents::inline v0::detail {

struct BatchIds::Generator {
  UuidGenerator uuid;
};

static_assert(UuidGenerator::size == std::tuple_size_v<decltype(Batch::id)>);

BatchIds::BatchIds() : generator_(std::make_unique<Generator>()) {}
BatchIds::~BatchIds() = default;

void BatchIds::assign(Batch& batch) noexcept { generator_->uuid.write(batch.id.data()); }

}  // namespace htevents::inline v0::detail
