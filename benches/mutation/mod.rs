//! A mutation-and-injection benchmark in the spirit of Roy & Cordy's framework: take real
//! functions, make type-1, type-2 and type-3 copies of them with known edits, plant original
//! and copy in different files, run a clone detector over the planted tree and measure recall
//! per clone type and language, plus false positives on planted unrelated controls.
//!
//! Shared by the command line (`benches/mutation.rs`) and the integration test
//! (`tests/it/mutation.rs`, a small fixed-seed tree from `fixtures/samples/`).
//!
//! - [`source`]: candidate functions from real files;
//! - [`mutate`]: the type-1, type-2 and type-3 mutators;
//! - [`names`]: identifier roles (variable, member, …), locals, the name-collision check and
//!   the independent statements a swap may exchange;
//! - [`similarity`]: the blind and raw line similarities, and the near-copy check;
//! - [`plant`]: wrapping functions so they parse alone, and checking planted files;
//! - [`generate`]: choosing functions, rounds, writing the tree and its manifest;
//! - [`score`] and [`tools`]: running a detector and scoring its clone classes.

pub mod generate;
pub mod manifest;
pub mod mutate;
pub mod names;
pub mod plant;
pub mod rng;
pub mod score;
pub mod similarity;
pub mod source;
pub mod syntax;
pub mod tools;
