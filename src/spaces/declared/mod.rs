//! Search spaces declared in a file (`--space FILE.yaml`; docs/design.md §1, "Declared spaces"): a
//! researcher's own cell space in a dozen lines of YAML, read and checked ([`declaration`]), with the
//! two cell families that cover the common benchmarks — operations on edges ([`edges`]: NAS-Bench-201,
//! TransNAS-Bench-101's micro cell, the DARTS cell) and operations on vertices ([`vertices`]:
//! NAS-Bench-101 and spaces like it). `spaces/*.yaml` in the repository declare the built-in spaces
//! and two more.
//!
//! A declared space has its identity and equivalence (text form, checks, pruning, a hash shared by
//! isomorphic cells, function classes where `zero`/`identity` are declared), its size and enumeration
//! (both families; [`vertices_enum`] for the vertices family), sampling and neighbours; [`plugin`]
//! makes the declaration in use the registry's third space (`SpaceKind::Declared`), so that tables,
//! predictors, searches, the oracle command and the Python API take it through the built-in spaces'
//! code path.

pub mod declaration;
pub mod edges;
pub mod plugin;
pub mod vertices;
pub mod vertices_enum;

use std::path::Path;

pub use declaration::{Declaration, Family};
pub use edges::{EdgeCell, EdgeSpace};
pub use vertices::{VertexCell, VertexSpace};

/// A declared space of either family.
#[derive(Clone, Debug)]
pub enum DeclaredSpace {
    Edges(EdgeSpace),
    Vertices(VertexSpace),
}

impl DeclaredSpace {
    /// Reads and checks the declaration at `path`.
    pub fn load(path: &Path) -> Result<DeclaredSpace, String> {
        Ok(DeclaredSpace::of(Declaration::load(path)?))
    }

    /// The space of a checked declaration, of the family it names.
    pub fn of(d: Declaration) -> DeclaredSpace {
        match d.family.clone() {
            Family::Edges(f) => DeclaredSpace::Edges(EdgeSpace::new(d, f)),
            Family::Vertices(f) => DeclaredSpace::Vertices(VertexSpace::new(d, f)),
        }
    }

    pub fn declaration(&self) -> &Declaration {
        match self {
            DeclaredSpace::Edges(s) => &s.decl,
            DeclaredSpace::Vertices(s) => &s.decl,
        }
    }

    /// Whether `arg` names a declaration file rather than a built-in space (a path ending in `.yaml`
    /// or `.yml`).
    pub fn is_declaration(arg: &str) -> bool {
        let lower = arg.to_ascii_lowercase();
        lower.ends_with(".yaml") || lower.ends_with(".yml")
    }
}
