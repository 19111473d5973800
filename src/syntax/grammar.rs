//! The pest binding of `grammar/loop.pest`.

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/loop.pest"]
pub struct LoopParser;
