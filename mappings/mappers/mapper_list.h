// The shipped mappers, in registry order (the default mapper is the first whose
// is_default_for holds). Adding a mapper: one file defining make_<name>_mapper(), and one
// line here.
CASCADE_MAPPER(fusemax)
CASCADE_MAPPER(flat)
CASCADE_MAPPER(unfused)
CASCADE_MAPPER(generic)
CASCADE_MAPPER(search)
