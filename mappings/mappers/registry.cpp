#include "mappings/mappers/registry.h"

#include "arch/support/error.h"
#include "arch/support/names.h"

namespace cascade {

namespace {

std::vector<std::unique_ptr<Mapper>>& registry() {
  static std::vector<std::unique_ptr<Mapper>> mappers = [] {
    std::vector<std::unique_ptr<Mapper>> all;
#define CASCADE_MAPPER(name) all.push_back(make_##name##_mapper());
#include "mappings/mappers/mapper_list.h"
#undef CASCADE_MAPPER
    return all;
  }();
  return mappers;
}

}  // namespace

std::vector<std::string> mapper_names() {
  std::vector<std::string> names;
  for (const auto& m : registry()) names.push_back(m->name());
  return names;
}

const Mapper* find_mapper(const std::string& name) {
  for (const auto& m : registry())
    if (m->name() == name) return m.get();
  return nullptr;
}

const Mapper& mapper_named(const std::string& name) {
  if (const Mapper* m = find_mapper(name)) return *m;
  throw Error("unknown mapper '" + name + "'" + did_you_mean(name, mapper_names()) +
              " (mappers: " + join(mapper_names()) + ", or a mapping file)");
}

const Mapper& default_mapper(const Cascade& cascade) {
  for (const auto& m : registry())
    if (m->is_default_for(cascade)) return *m;
  throw Error("no mapper takes cascade " + cascade.name + " by default: name one with --mapper");
}

void register_mapper(std::unique_ptr<Mapper> mapper) {
  if (find_mapper(mapper->name()))
    throw Error("a mapper named '" + mapper->name() + "' is already registered");
  registry().push_back(std::move(mapper));
}

}  // namespace cascade
