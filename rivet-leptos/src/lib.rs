//! Leptos 0.8 hooks for Rivet Actors (work in progress).
