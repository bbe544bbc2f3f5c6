//! std adapters for citysec (being written).
