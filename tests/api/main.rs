//! Quarry's integration tests, in one binary (one link step): each starts the
//! real server through `quarry::http::start`, on port 0, in a temporary data dir.

mod access;
mod auth;
mod batch;
mod catalogue;
mod cli;
mod crash;
mod delivery;
mod demo;
mod events;
mod faults;
mod fuzz;
mod helpers;
mod images;
mod imports;
mod jobs;
mod labels;
mod ledger_model;
mod locations;
mod metrics;
mod migrate;
mod nodes;
mod operations;
mod pages;
mod pg_faults;
mod queries;
mod quotes;
mod relevance;
mod reports;
mod search;
mod search_index;
mod search_real;
mod stock;
mod system;
mod tls;
mod webhooks;
