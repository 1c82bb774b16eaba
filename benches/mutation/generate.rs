//! Generation: choose originals, mutate them, plant them in files, write the manifest.
//!
//! Per language, functions are drawn in a seeded order and accepted greedily: a candidate is
//! accepted only when its raw-token LCS ratio to every function already accepted in its round
//! is below 0.5 and at most 70% of the shorter one's tokens recur in the longer (so no two
//! planted functions are near-copies, as the JDK's templated ones are, and no small one is
//! repeated inside a big one), then assigned to the category with the most open demand and
//! mutated (in parallel, a batch at a time, each with its own seeded stream). A quarter of the
//! type-2 slots ([`COLLISION_SHARE`]) are held for functions that have a local sharing its
//! name with a member, when the language has any, and become name collisions; `T3-swap` slots
//! go only to functions with two statements to swap; a banded type-3 copy is renamed with
//! probability [`RENAMED_SHARE`]. A function whose mutation fails goes back to the queue for
//! another category. When a language has too few functions, later *rounds* reuse them: each
//! round is its own directory, scanned on its own.

use std::collections::{HashSet, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use cpt::parse::lang::Language;
use rayon::prelude::*;

use super::manifest::{self, Category, Control, LangStats, Manifest, Operator, Pair, Span};
use super::mutate::{self, COLLISION_SHARE, Donors, Mutant, RENAMED_SHARE, UNCONTAINED, UNRELATED};
use super::plant::{self, Layout, Piece};
use super::rng::Rng;
use super::similarity::{LcsPattern, line_similarity, text_hash};
use super::source::{self, Func};

/// Candidates loaded before selection starts, per planted function wanted.
const LOAD_FACTOR: usize = 4;
/// Files read in parallel at a time.
const FILE_CHUNK: usize = 64;
/// Candidates mutated in parallel at a time.
const BATCH: usize = 32;
/// Functions per planted file.
const PER_FILE: usize = 8;
/// Rounds per language at most.
const MAX_ROUNDS: u32 = 200;

#[derive(Clone, Debug)]
pub struct Options {
    pub out: PathBuf,
    pub seed: u64,
    pub per_category: usize,
    /// The Python standard library (`.py` files).
    pub python: Option<PathBuf>,
    /// Unzipped JDK sources (`.java` files).
    pub java: Option<PathBuf>,
    /// One directory per language id.
    pub samples: PathBuf,
}

/// Generate the planted tree in `opts.out` and return its manifest (also written there).
/// Progress, one line per language, goes to `log`.
pub fn generate(opts: &Options, log: &mut dyn Write) -> Result<Manifest> {
    prepare_out(&opts.out)?;
    let mut manifest = Manifest::new(opts.seed, opts.per_category);
    for lang in cpt::parse::lang::all() {
        let files = source_files(opts, lang)?;
        if files.is_empty() {
            continue;
        }
        let mut generator = LangGenerator::new(lang, files, opts);
        generator.run(&opts.out, &mut manifest)?;
        let stats = &generator.pool.stats;
        writeln!(log, "{}: {}", lang.id, summary(stats))?;
        manifest
            .languages
            .insert(lang.id.to_string(), generator.pool.stats);
    }
    manifest.write(&opts.out)?;
    Ok(manifest)
}

fn summary(stats: &LangStats) -> String {
    let planted: Vec<String> = stats
        .planted
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let dropped: Vec<String> = stats
        .dropped
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let with = |category: Category, op: Operator| {
        stats
            .operators
            .get(&format!("{} {}", category.label(), op.label()))
            .copied()
            .unwrap_or(0)
    };
    let banded = [Category::Type3High, Category::Type3Mid, Category::Type3Low];
    let t3: usize = banded
        .iter()
        .map(|c| stats.planted.get(c.label()).copied().unwrap_or(0))
        .sum();
    let renamed: usize = banded.iter().map(|&c| with(c, Operator::Rename)).sum();
    format!(
        "{} files, {} candidate functions, {} round(s); planted {} (T2 collisions {}, banded \
         T3 renamed {renamed}/{t3}); dropped: {}",
        stats.files,
        stats.functions,
        stats.rounds,
        planted.join(", "),
        with(Category::Type2, Operator::Collision),
        dropped.join(", ")
    )
}

/// An empty output directory; a previous generated tree (it has a manifest) is replaced,
/// anything else is refused.
fn prepare_out(out: &Path) -> Result<()> {
    if out.exists() {
        let mut entries =
            std::fs::read_dir(out).with_context(|| format!("cannot read {}", out.display()))?;
        if entries.next().is_some() {
            if !out.join(manifest::FILE).is_file() {
                bail!(
                    "{} is not empty and has no {}: refusing to overwrite it",
                    out.display(),
                    manifest::FILE
                );
            }
            std::fs::remove_dir_all(out)
                .with_context(|| format!("cannot remove the old tree {}", out.display()))?;
        }
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))
}

/// The language's source files as (path, label for `origin`), sorted.
fn source_files(opts: &Options, lang: &Language) -> Result<Vec<(PathBuf, String)>> {
    let mut dirs: Vec<(PathBuf, &str)> = Vec::new();
    let corpus = match lang.id {
        "python" => opts.python.as_ref().map(|d| (d, "stdlib")),
        "java" => opts.java.as_ref().map(|d| (d, "jdk")),
        _ => None,
    };
    if let Some((dir, tag)) = corpus {
        if !dir.is_dir() {
            bail!("{} is not a directory", dir.display());
        }
        dirs.push((dir.clone(), tag));
    }
    let samples = opts.samples.join(lang.id);
    if samples.is_dir() {
        dirs.push((samples, "samples"));
    }
    let mut out = Vec::new();
    for (dir, tag) in dirs {
        for path in source::files(&dir, lang)? {
            let rel = path.strip_prefix(&dir).unwrap_or(&path).display();
            let label = format!("{tag}/{}/{rel}", lang.id);
            out.push((path, label));
        }
    }
    Ok(out)
}

/// Candidate functions of one language, loaded lazily in a seeded file order.
struct Pool {
    lang: &'static Language,
    files: Vec<(PathBuf, String)>,
    next_file: usize,
    funcs: Vec<Func>,
    seen: HashSet<u64>,
    seed: u64,
    stats: LangStats,
}

impl Pool {
    /// Read more files until `wanted` new functions came in or the files ran out; returns
    /// how many came in.
    fn load_more(&mut self, wanted: usize) -> usize {
        let before = self.funcs.len();
        while self.funcs.len() - before < wanted && self.next_file < self.files.len() {
            let end = (self.next_file + FILE_CHUNK).min(self.files.len());
            let lang = self.lang;
            let found: Vec<source::FileFunctions> = self.files[self.next_file..end]
                .par_iter()
                .map(|(path, label)| source::functions_in(lang, path, label))
                .collect();
            let chunk_start = self.funcs.len();
            for file in found {
                self.stats.drop("unreadable file", file.unreadable);
                self.stats.drop("syntax errors", file.syntax_errors);
                self.stats.drop("nested in another function", file.nested);
                self.stats
                    .drop("fewer than 3 statements", file.few_statements);
                self.stats.drop("does not parse alone", file.not_alone);
                for func in file.funcs {
                    if self.seen.insert(text_hash(func.text.as_bytes())) {
                        self.funcs.push(func);
                    } else {
                        self.stats.drop("duplicate text", 1);
                    }
                }
            }
            let mut rng = Rng::derive(self.seed, &[self.lang.id, "chunk", &end.to_string()]);
            rng.shuffle(&mut self.funcs[chunk_start..]);
            self.stats.files += end - self.next_file;
            self.next_file = end;
        }
        self.stats.functions = self.funcs.len();
        self.funcs.len() - before
    }
}

/// Categories, counted.
const CATEGORIES: usize = Category::ALL.len();

/// A planted mutant: its text, blind and raw line similarity to the original, its edits.
struct Planted {
    text: String,
    similarity: f64,
    raw_similarity: f64,
    operators: Vec<Operator>,
}

/// A planted original with its mutant (`None` for a control).
struct Item {
    func: usize,
    category: Category,
    mutant: Option<Planted>,
}

impl Item {
    /// A type-2 name collision.
    fn collides(&self) -> bool {
        self.category == Category::Type2
            && self
                .mutant
                .as_ref()
                .is_some_and(|m| m.operators.contains(&Operator::Collision))
    }
}

/// What is still to plant: pairs per category, and how many of the type-2 ones are to be
/// name collisions.
#[derive(Clone, Copy)]
struct Demand {
    per_category: [usize; CATEGORIES],
    collisions: usize,
}

/// A candidate on its way to be mutated into a category (a type-2 one maybe a collision).
#[derive(Clone, Copy)]
struct Job {
    candidate: Candidate,
    category: Category,
    collide: bool,
}

/// One candidate in the selection queue, with the categories it already failed.
#[derive(Clone, Copy)]
struct Candidate {
    func: usize,
    tried: u8,
}

const ALL_TRIED: u8 = (1 << Category::ALL.len()) - 1;

fn bit(c: Category) -> u8 {
    1 << c.index()
}

struct LangGenerator {
    pool: Pool,
    seed: u64,
    per_category: usize,
}

impl LangGenerator {
    fn new(lang: &'static Language, mut files: Vec<(PathBuf, String)>, opts: &Options) -> Self {
        Rng::derive(opts.seed, &[lang.id, "files"]).shuffle(&mut files);
        LangGenerator {
            pool: Pool {
                lang,
                files,
                next_file: 0,
                funcs: Vec::new(),
                seen: HashSet::new(),
                seed: opts.seed,
                stats: LangStats::default(),
            },
            seed: opts.seed,
            per_category: opts.per_category,
        }
    }

    fn lang(&self) -> &'static Language {
        self.pool.lang
    }

    fn run(&mut self, out: &Path, manifest: &mut Manifest) -> Result<()> {
        let wanted = self.per_category * Category::ALL.len();
        self.pool.load_more(wanted * LOAD_FACTOR);
        // Name collisions where the language's functions have them at all.
        let collide = self.pool.funcs.iter().any(|f| f.can.collide);
        let mut remaining = Demand {
            per_category: [self.per_category; CATEGORIES],
            collisions: if collide {
                (self.per_category as f64 * COLLISION_SHARE).round() as usize
            } else {
                0
            },
        };
        for round in 0..MAX_ROUNDS {
            if remaining.per_category.iter().all(|&n| n == 0) {
                break;
            }
            let items = self.fill_round(round, &remaining);
            if items.is_empty() {
                break;
            }
            for item in &items {
                remaining.per_category[item.category.index()] -= 1;
                if item.collides() {
                    remaining.collisions = remaining.collisions.saturating_sub(1);
                }
                let stats = &mut self.pool.stats;
                let label = item.category.label();
                *stats.planted.entry(label.to_string()).or_default() += 1;
                for op in item.mutant.iter().flat_map(|m| &m.operators) {
                    *stats
                        .operators
                        .entry(format!("{label} {}", op.label()))
                        .or_default() += 1;
                }
            }
            self.write_round(out, round, &items, manifest)?;
            self.pool.stats.rounds = round + 1;
        }
        Ok(())
    }

    /// Select, mutate and check the items of one round (up to `remaining` per category).
    fn fill_round(&mut self, round: u32, remaining: &Demand) -> Vec<Item> {
        let mut queue: VecDeque<Candidate> = self.round_order(round);
        let mut accepted: Vec<usize> = Vec::new();
        let mut items: Vec<Item> = Vec::new();
        loop {
            self.select(round, remaining, &mut queue, &mut accepted, &mut items);
            let failed = self.failing_items(round, &items);
            if failed.is_empty() {
                return items;
            }
            self.pool
                .stats
                .drop("failed the planted-file check", failed.len());
            let failed_funcs: Vec<usize> = failed.iter().map(|&i| items[i].func).collect();
            accepted.retain(|f| !failed_funcs.contains(f));
            let mut k = 0;
            items.retain(|_| {
                k += 1;
                !failed.contains(&(k - 1))
            });
        }
    }

    fn round_order(&self, round: u32) -> VecDeque<Candidate> {
        let mut order: Vec<usize> = (0..self.pool.funcs.len()).collect();
        if round > 0 {
            Rng::derive(self.seed, &[self.lang().id, "round", &round.to_string()])
                .shuffle(&mut order);
        }
        order
            .into_iter()
            .map(|func| Candidate { func, tried: 0 })
            .collect()
    }

    /// The next candidate; round 0 reads more files when the queue runs dry.
    fn next_candidate(&mut self, round: u32, queue: &mut VecDeque<Candidate>) -> Option<Candidate> {
        if queue.is_empty() && round == 0 {
            let before = self.pool.funcs.len();
            let added = self.pool.load_more(BATCH);
            queue.extend((before..before + added).map(|func| Candidate { func, tried: 0 }));
        }
        queue.pop_front()
    }

    /// Accept and mutate candidates until the round's demand is met or the queue is empty.
    fn select(
        &mut self,
        round: u32,
        remaining: &Demand,
        queue: &mut VecDeque<Candidate>,
        accepted: &mut Vec<usize>,
        items: &mut Vec<Item>,
    ) {
        loop {
            let mut have = [0usize; CATEGORIES];
            for item in items.iter() {
                have[item.category.index()] += 1;
            }
            let have_collisions = items.iter().filter(|i| i.collides()).count();
            let mut jobs: Vec<Job> = Vec::new();
            while jobs.len() < BATCH {
                let open = |c: Category, jobs: &[Job]| {
                    let in_flight = jobs.iter().filter(|j| j.category == c).count();
                    remaining.per_category[c.index()].saturating_sub(have[c.index()] + in_flight)
                };
                if Category::ALL.iter().all(|&c| open(c, &jobs) == 0) {
                    break;
                }
                let Some(candidate) = self.next_candidate(round, queue) else {
                    break;
                };
                let collisions_open = remaining
                    .collisions
                    .saturating_sub(have_collisions + jobs.iter().filter(|j| j.collide).count());
                let can = self.pool.funcs[candidate.func].can;
                let collide = can.collide && collisions_open > 0;
                // Type-2 slots held for collisions go to functions that have one; swaps to
                // functions that have two statements to swap.
                let open_to = |c: Category, jobs: &[Job]| match c {
                    Category::Type2 if !collide => open(c, jobs).saturating_sub(collisions_open),
                    Category::Type3Swap if !can.swap => 0,
                    _ => open(c, jobs),
                };
                let category = Category::ALL
                    .iter()
                    .copied()
                    .filter(|&c| candidate.tried & bit(c) == 0 && open_to(c, &jobs) > 0)
                    .max_by_key(|&c| (open_to(c, &jobs), std::cmp::Reverse(c.index())));
                let Some(category) = category else {
                    continue;
                };
                if !self.unlike_all(candidate.func, accepted) {
                    self.pool.stats.drop("near-copy of a picked function", 1);
                    continue;
                }
                accepted.push(candidate.func);
                jobs.push(Job {
                    candidate,
                    category,
                    collide: collide && category == Category::Type2,
                });
            }
            if jobs.is_empty() {
                return;
            }
            let results: Vec<Option<Item>> = jobs
                .par_iter()
                .map(|&job| self.make_item(round, job))
                .collect();
            for (job, result) in jobs.into_iter().zip(results) {
                match result {
                    Some(item) => items.push(item),
                    None => {
                        let what = if job.collide {
                            "T2 collision"
                        } else {
                            job.category.label()
                        };
                        self.pool.stats.drop(&format!("no {what} mutant"), 1);
                        accepted.retain(|&f| f != job.candidate.func);
                        let tried = job.candidate.tried | bit(job.category);
                        if tried != ALL_TRIED {
                            queue.push_back(Candidate {
                                func: job.candidate.func,
                                tried,
                            });
                        }
                    }
                }
            }
        }
    }

    /// Whether `func` is unrelated to every accepted function (raw-token LCS ratio below
    /// 0.5, and less than 70% of the shorter one's tokens recurring in the longer).
    fn unlike_all(&self, func: usize, accepted: &[usize]) -> bool {
        let funcs = &self.pool.funcs;
        let pattern = LcsPattern::new(&funcs[func].codes);
        accepted
            .iter()
            .all(|&a| !pattern.related(&funcs[a].codes, UNRELATED, UNCONTAINED))
    }

    fn make_item(&self, round: u32, job: Job) -> Option<Item> {
        let Job {
            candidate,
            category,
            collide,
        } = job;
        let funcs = &self.pool.funcs;
        let func = &funcs[candidate.func];
        let mut rng = Rng::derive(
            self.seed,
            &[
                self.lang().id,
                "mutate",
                &round.to_string(),
                &candidate.func.to_string(),
                category.label(),
            ],
        );
        let orig = func.parse()?;
        let planted = |(m, similarity): (Mutant, f64)| Planted {
            text: m.copy.text().to_string(),
            similarity,
            raw_similarity: line_similarity(&orig.normalized_lines(), &m.copy.normalized_lines()),
            operators: m.operators.into_iter().collect(),
        };
        let blind = |m: Mutant| {
            let similarity = line_similarity(&orig.blind_lines(), &m.copy.blind_lines());
            (m, similarity)
        };
        let mutant = match category {
            Category::Control => None,
            Category::Type1 => mutate::type1(&orig, &mut rng).map(blind).map(planted),
            Category::Type2 => mutate::type2(&orig, collide, &mut rng)
                .map(blind)
                .map(planted),
            Category::Type3Swap => mutate::swap(&orig, &mut rng).map(planted),
            band_category => {
                let pattern = LcsPattern::new(&func.codes);
                let donors = Donors {
                    funcs,
                    original: &pattern,
                };
                let band = band_category.band()?;
                let renamed = rng.chance(RENAMED_SHARE);
                if renamed && !func.can.rename {
                    return None;
                }
                mutate::type3(&orig, band, renamed, &donors, &mut rng).map(planted)
            }
        };
        if category != Category::Control && mutant.is_none() {
            return None;
        }
        Some(Item {
            func: candidate.func,
            category,
            mutant,
        })
    }

    /// Lay the round's items out in files and check them; the indices of items that failed.
    fn failing_items(&self, round: u32, items: &[Item]) -> Vec<usize> {
        let files = self.layout_round(round, items);
        let mut failed: Vec<usize> = files
            .par_iter()
            .flat_map_iter(|(pieces, layout)| {
                let units = plant::verify(self.lang(), layout);
                pieces
                    .iter()
                    .zip(units)
                    .filter(|(_, unit)| unit.is_none())
                    .map(|(&(item, _), _)| item)
                    .collect::<Vec<_>>()
            })
            .collect();
        failed.sort_unstable();
        failed.dedup();
        failed
    }

    /// The round's files: (pieces as (item, is mutant), layout). Original and mutant of one
    /// item never share a file.
    fn layout_round(&self, round: u32, items: &[Item]) -> Vec<(Vec<(usize, bool)>, Layout)> {
        let mut pieces: Vec<(usize, bool)> = items
            .iter()
            .enumerate()
            .flat_map(|(i, item)| {
                std::iter::once((i, false)).chain(item.mutant.as_ref().map(|_| (i, true)))
            })
            .collect();
        Rng::derive(self.seed, &[self.lang().id, "layout", &round.to_string()])
            .shuffle(&mut pieces);
        let mut wrapper = 0;
        distribute(&pieces)
            .into_iter()
            .map(|file| {
                let texts: Vec<Piece<'_>> = file
                    .iter()
                    .map(|&(i, mutant)| {
                        let item = &items[i];
                        let func = &self.pool.funcs[item.func];
                        let text = match (&item.mutant, mutant) {
                            (Some(m), true) => m.text.as_str(),
                            _ => func.text.as_str(),
                        };
                        Piece {
                            text,
                            kind: func.kind,
                        }
                    })
                    .collect();
                let layout = plant::layout(self.lang(), &texts, wrapper);
                wrapper += texts.len();
                (file, layout)
            })
            .collect()
    }

    fn write_round(
        &self,
        out: &Path,
        round: u32,
        items: &[Item],
        manifest: &mut Manifest,
    ) -> Result<()> {
        let lang = self.lang();
        let root = format!("{}/round-{round}", lang.id);
        let dir = out.join(&root);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let extension = lang.extensions.first().map_or("txt", |e| e.as_str());
        let mut spans: Vec<[Option<Span>; 2]> = vec![[None, None]; items.len()];
        for (n, (pieces, layout)) in self.layout_round(round, items).into_iter().enumerate() {
            let name = format!("planted_{n:03}.{extension}");
            let path = dir.join(&name);
            std::fs::write(&path, &layout.source)
                .with_context(|| format!("cannot write {}", path.display()))?;
            for (&(item, mutant), placed) in pieces.iter().zip(&layout.placed) {
                spans[item][usize::from(mutant)] = Some(Span {
                    path: format!("{root}/{name}"),
                    start_line: placed.start_line,
                    end_line: placed.end_line,
                });
            }
        }
        for (k, (item, [original, mutant])) in items.iter().zip(spans).enumerate() {
            let id = format!("{}-{round}-{k}", lang.id);
            let source = self.pool.funcs[item.func].origin.clone();
            let original = original.context("every item was laid out")?;
            match (&item.mutant, mutant) {
                (Some(planted), Some(mutant)) => manifest.pairs.push(Pair {
                    id,
                    language: lang.id.to_string(),
                    category: item.category,
                    round,
                    similarity: (planted.similarity * 1e4).round() / 1e4,
                    raw_similarity: (planted.raw_similarity * 1e4).round() / 1e4,
                    operators: planted.operators.clone(),
                    source,
                    original,
                    mutant,
                }),
                _ => manifest.controls.push(Control {
                    id,
                    language: lang.id.to_string(),
                    category: Category::Control,
                    round,
                    source,
                    span: original,
                }),
            }
        }
        manifest.roots.push(root);
        Ok(())
    }
}

/// Deal shuffled pieces into files of about [`PER_FILE`], never putting an item's original
/// and mutant in one file.
fn distribute(pieces: &[(usize, bool)]) -> Vec<Vec<(usize, bool)>> {
    let has_pairs = pieces.iter().any(|p| p.1);
    let count = pieces
        .len()
        .div_ceil(PER_FILE)
        .max(if has_pairs { 2 } else { 1 });
    let capacity = pieces.len().div_ceil(count);
    let mut files: Vec<Vec<(usize, bool)>> = vec![Vec::new(); count];
    for (k, &piece) in pieces.iter().enumerate() {
        let fits = |f: &Vec<(usize, bool)>, full: bool| {
            (full || f.len() < capacity) && !f.iter().any(|q| q.0 == piece.0)
        };
        let target = (0..count)
            .map(|step| (k + step) % count)
            .find(|&f| fits(&files[f], false))
            .or_else(|| (0..count).find(|&f| fits(&files[f], true)))
            .unwrap_or(k % count);
        files[target].push(piece);
    }
    files.retain(|f| !f.is_empty());
    files
}
