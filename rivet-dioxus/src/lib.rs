//! Dioxus 0.7 hooks for Rivet Actors (work in progress).
