//! see DESIGN.md
