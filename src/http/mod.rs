//! The HTTP layer: every route in one table, the middleware around them, and
//! the server start used by both `quarry serve` and the integration tests.
//! Handlers are thin: extract, call one `app/` function, map the result.

mod account;
mod accounts;
mod batch;
mod browser;
mod catalogue;
mod customers;
mod deliveries;
mod delivery;
pub mod error;
pub mod extract;
mod images;
mod labels;
mod ledger;
mod mail;
mod metrics;
pub mod net;
mod operations;
mod pages;
mod quotes;
mod reports;
mod search;
mod serve;
mod system;
mod webhooks;

use error::ErrorCode;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::HeaderName;
use axum::response::IntoResponse;
use axum::{Router, middleware};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::App;
use crate::config::{Config, MetricsAccess, MetricsConfig};
use error::ApiError;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Quarry",
        description = "Stock, catalogue and quoting API. Errors are `{\"error\": {\"code\", \"message\", \"field\"}}`; lists are `{\"items\", \"next_cursor\"}`; decimals are strings.",
    ),
    modifiers(&BearerAuth),
    // Schemas only parameters name (utoipa collects those of bodies and
    // answers by itself).
    components(schemas(
        crate::domain::values::Sku,
        crate::domain::locations::LocationCode,
        crate::domain::delivery::ZoneCode,
        crate::domain::customers::PriceListCode,
        crate::domain::customers::CustomerCode,
        crate::domain::accounts::Username,
        crate::domain::accounts::TokenName,
        crate::domain::quotes::QuoteNumber,
        crate::domain::units::Quantity,
        crate::domain::units::PositiveQuantity,
        crate::domain::units::UnitName,
        crate::domain::locale::DecimalMark,
        crate::app::idempotency::IdempotencyKeyValue,
        ledger::LastEventId,
        catalogue::NewProduct,
    )),
    tags(
        (name = "catalogue", description = "Products"),
        (name = "locations", description = "Warehouses, yards and shelves"),
        (name = "stock", description = "The stock ledger, levels and live events"),
        (name = "search", description = "Catalogue search"),
        (name = "quotes", description = "Estimates and saved quotes"),
        (name = "customers", description = "Trade customers, their contacts and their price lists"),
        (name = "account", description = "A signed-in trade contact's own account: their customer's quotes, ordering again"),
        (name = "reports", description = "The figures behind the dashboard's charts"),
        (name = "accounts", description = "Sign-in, sessions, users, tokens and the audit log"),
        (name = "operations", description = "Backups, import and export"),
        (name = "webhooks", description = "Signed messages to other systems, from the change log"),
        (name = "system", description = "Health, metrics and this document"),
        (name = "ui", description = "The embedded web UI"),
    ),
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "quarry_session",
                "The browser session from POST /api/v1/auth/login (`__Host-quarry_session` over TLS); changes also need X-CSRF-Token",
            ))),
        );
    }
}

/// The answers any route with a body or parameters can give before its
/// handler runs: 400 (malformed JSON, query or header), and for bodies 413
/// (too large) and 415 (not JSON). Documented once here instead of on each.
struct RequestErrors;

impl Modify for RequestErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let error = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ErrorBody")))
                            .build(),
                    )
                    .build(),
            )
        };
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                let responses = &mut operation.responses.responses;
                let has_body = operation.request_body.is_some();
                let has_parameters = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
                if has_body || has_parameters {
                    responses
                        .entry("400".into())
                        .or_insert_with(|| error("The request is malformed"));
                }
                if has_body {
                    responses
                        .entry("413".into())
                        .or_insert_with(|| error("The body is larger than allowed"));
                    responses
                        .entry("415".into())
                        .or_insert_with(|| error("The body is not of the type taken"));
                }
            }
        }
    }
}

/// The routes of accounts, backups, jobs, exports, webhooks and mail.
fn accounts_and_operations() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(accounts::login))
        .routes(routes!(accounts::logout))
        .routes(routes!(accounts::me))
        .routes(routes!(accounts::change_password))
        .routes(routes!(accounts::forgot_password))
        .routes(routes!(accounts::reset_password))
        .routes(routes!(accounts::issue_reset_link))
        .routes(routes!(accounts::setup, accounts::setup_state))
        .routes(routes!(accounts::accept_invite))
        .routes(routes!(accounts::list_users, accounts::create_user))
        .routes(routes!(accounts::update_user))
        .routes(routes!(accounts::list_tokens, accounts::create_token))
        .routes(routes!(accounts::revoke_token))
        .routes(routes!(accounts::audit))
        .routes(routes!(operations::list_backups, operations::create_backup))
        .routes(routes!(operations::download_backup))
        .routes(routes!(operations::get_job))
        .routes(routes!(operations::get_job_bad_rows))
        .routes(routes!(operations::export))
        .routes(routes!(webhooks::list_webhooks, webhooks::create_webhook))
        .routes(routes!(webhooks::event_kinds))
        .routes(routes!(
            webhooks::get_webhook,
            webhooks::update_webhook,
            webhooks::delete_webhook
        ))
        .routes(routes!(webhooks::list_deliveries))
        .routes(routes!(webhooks::replay_webhook))
        .routes(routes!(webhooks::ping_webhook))
        .routes(routes!(mail::list_mail))
        .routes(routes!(mail::test_mail))
}

/// The routes of trade customers, their price lists and contacts, and a
/// contact's own account.
fn customers_and_account() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(
            customers::list_price_lists,
            customers::create_price_list
        ))
        .routes(routes!(
            customers::get_price_list,
            customers::replace_price_list,
            customers::delete_price_list
        ))
        .routes(routes!(customers::preview_price))
        .routes(routes!(
            customers::list_customers,
            customers::create_customer
        ))
        .routes(routes!(
            customers::get_customer,
            customers::replace_customer
        ))
        .routes(routes!(account::list_contacts))
        .routes(routes!(account::invite_contact))
        .routes(routes!(account::withdraw_invite))
        .routes(routes!(account::update_contact))
        .routes(routes!(account::account))
        .routes(routes!(account::account_quotes))
        .routes(routes!(account::account_quote))
        .routes(routes!(account::account_order_again))
        .routes(routes!(account::order_again))
        .routes(routes!(deliveries::deliver, deliveries::list_deliveries))
        .routes(routes!(deliveries::account_deliveries))
        .routes(routes!(deliveries::close_quote))
}

/// Every route, and the `OpenAPI` document generated from them.
fn routes() -> (Router<App>, utoipa::openapi::OpenApi) {
    // Uploads have their own limit (`limits.import_bytes`), checked as they stream.
    let imports = OpenApiRouter::new()
        .routes(routes!(operations::import_products))
        .routes(routes!(operations::import_stock))
        .routes(routes!(operations::import_movements))
        .routes(routes!(operations::import_customers))
        .routes(routes!(operations::import_price_lists))
        .layer(DefaultBodyLimit::disable());
    // Photos have their own limit, checked as they arrive.
    let uploads = OpenApiRouter::new()
        .routes(routes!(images::add_image, images::list_images))
        .layer(DefaultBodyLimit::max(images::MAX_UPLOAD + 64 * 1024));
    let api = OpenApiRouter::new()
        .routes(routes!(images::change_image, images::delete_image))
        .routes(routes!(catalogue::list_products, catalogue::create_product))
        .routes(routes!(
            catalogue::get_product,
            catalogue::replace_product,
            catalogue::patch_product,
            catalogue::archive_product
        ))
        .routes(routes!(
            catalogue::list_locations,
            catalogue::create_location
        ))
        .routes(routes!(catalogue::get_location, catalogue::patch_location))
        .routes(routes!(ledger::list_movements, ledger::book_movement))
        .routes(routes!(ledger::get_movement))
        .routes(routes!(ledger::reverse_movement))
        .routes(routes!(ledger::list_stock))
        .routes(routes!(ledger::stock_value))
        .routes(routes!(labels::labels))
        .routes(routes!(reports::stock_value))
        .routes(routes!(reports::movements))
        .routes(routes!(reports::top_products))
        .routes(routes!(reports::quotes))
        .routes(routes!(ledger::product_stock))
        .routes(routes!(ledger::events))
        .routes(routes!(batch::batch))
        .routes(routes!(search::search))
        .routes(routes!(search::suggest))
        .routes(routes!(search::categories))
        .routes(routes!(quotes::estimate, quotes::estimate_one))
        .routes(routes!(quotes::list_quotes, quotes::create_quote))
        .routes(routes!(quotes::get_quote, quotes::edit_quote))
        .routes(routes!(quotes::accept_quote))
        .routes(routes!(quotes::fulfil_quote))
        .routes(routes!(quotes::cancel_quote))
        .routes(routes!(quotes::relink_quote))
        .routes(routes!(quotes::reprice_quote))
        .routes(routes!(delivery::list_zones, delivery::create_zone))
        .routes(routes!(delivery::replace_zone, delivery::delete_zone))
        .merge(customers_and_account())
        .routes(routes!(quotes::quote_by_link))
        .merge(accounts_and_operations())
        .routes(routes!(system::shop))
        .merge(imports)
        .merge(uploads);
    let (routes, document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", api)
        .routes(routes!(system::openapi))
        .routes(routes!(system::healthz))
        .routes(routes!(system::readyz))
        .routes(routes!(metrics::metrics))
        .routes(routes!(system::asset_file))
        .routes(routes!(images::media_file))
        .routes(routes!(pages::index))
        .routes(routes!(pages::product_page))
        .routes(routes!(pages::quote_list_page))
        .routes(routes!(quotes::quote_page))
        .routes(routes!(pages::setup_page))
        .routes(routes!(pages::reset_page))
        .routes(routes!(pages::account_page))
        .routes(routes!(pages::invite_page))
        .routes(routes!(pages::account_quote_page))
        .routes(routes!(deliveries::delivery_note_page))
        .routes(routes!(pages::admin_login_page))
        .routes(routes!(pages::admin_page))
        .routes(routes!(pages::admin_section_page))
        .split_for_parts();
    // After the routes are in: the modifier walks their operations.
    let mut document = document;
    RequestErrors.modify(&mut document);
    (routes, document)
}

/// The `OpenAPI` document, as served at `/api/v1/openapi.json`.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    routes().1
}

/// The complete application: routes, state and middleware.
pub fn router(app: App) -> Router {
    let (routes, document) = routes();
    let document = Arc::new(
        document
            .to_json()
            .expect("the `OpenAPI` document serializes"),
    );
    let config = app.config();
    let limits = config.limits.clone();
    let network = Arc::new(net::Network::new(config));
    let policy = Arc::new(browser::Policy::new(config));
    let measured = app.metrics().clone();
    let limiters = Arc::new(net::Limiters::new(config));
    {
        let limiters = limiters.clone();
        app.repeat(Duration::from_secs(60), move |_| {
            limiters.forget_idle();
            async {}
        });
    }
    let request_id = HeaderName::from_static("x-request-id");
    let routes = routes.layer(axum::Extension(limiters));
    // What a batch's sub-requests run through: the same routes and state.
    let sub_requests = batch::Routes(
        routes
            .clone()
            .fallback(|| async { ApiError::not_found("no such route") })
            .with_state(app.clone()),
    );
    routes
        .layer(axum::Extension(sub_requests))
        .layer(axum::Extension(batch::AnswerBudget::default()))
        .fallback(pages::fallback)
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                ErrorCode::MethodNotAllowed,
                "this route does not take that method",
            )
        })
        .layer(axum::Extension(document))
        .layer(DefaultBodyLimit::max(limits.body_bytes))
        .with_state(app)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|request: &Request| {
                            let id = request
                                .headers()
                                .get("x-request-id")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("-");
                            tracing::info_span!(
                                "request",
                                id,
                                method = %request.method(),
                                path = request.uri().path(),
                            )
                        })
                        .on_response(DefaultOnResponse::new().level(Level::INFO)),
                )
                .layer(middleware::from_fn_with_state(measured, metrics::track))
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(middleware::from_fn_with_state(policy, browser::headers))
                .layer(CatchPanicLayer::custom(|_| {
                    ApiError::new(
                        ErrorCode::Internal,
                        "something went wrong on the server; it has been logged",
                    )
                    .into_response()
                }))
                .layer(middleware::from_fn_with_state(
                    Duration::from_secs(limits.request_timeout_secs),
                    deadline,
                ))
                .layer(middleware::from_fn_with_state(
                    BodyLimits {
                        body: limits.body_bytes as u64,
                        upload: limits.import_bytes,
                    },
                    declared_length,
                ))
                .layer(middleware::from_fn_with_state(network, net::identify)),
        )
}

/// Whether the request starts long work (an import or a backup), which runs
/// as a job and is exempt from the request timeout: the upload has its own
/// (`limits.upload_timeout_secs`), and the work goes on if the client leaves.
fn starts_long_work(method: &axum::http::Method, path: &str) -> bool {
    method == axum::http::Method::POST
        && (path == "/api/v1/backups" || path.starts_with("/api/v1/imports/"))
}

/// The most a request body may be: `limits.body_bytes`, and for uploads
/// `limits.import_bytes` (plus the multipart form's own framing).
#[derive(Clone, Copy)]
struct BodyLimits {
    body: u64,
    upload: u64,
}

/// Bytes of multipart framing an upload may carry besides its file.
const FORM_FRAMING: u64 = 64 * 1024;

/// Answers 413 at once to a request whose `Content-Length` is over its
/// route's limit, instead of reading (or waiting for) a body it would refuse.
async fn declared_length(
    axum::extract::State(limits): axum::extract::State<BodyLimits>,
    request: Request,
    next: middleware::Next,
) -> axum::response::Response {
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let upload = starts_long_work(request.method(), request.uri().path())
        && request.uri().path().starts_with("/api/v1/imports/");
    if let Some(declared) = declared {
        if upload && declared > limits.upload.saturating_add(FORM_FRAMING) {
            return operations::too_large(limits.upload).into_response();
        }
        if !upload && declared > limits.body {
            return ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!(
                    "the request body is {declared} bytes; this server takes at most {} \
                     (limits.body_bytes)",
                    limits.body
                ),
            )
            .into_response();
        }
    }
    next.run(request).await
}

/// Answers 408 to a request still unanswered after `limit` (long work aside).
async fn deadline(
    axum::extract::State(limit): axum::extract::State<Duration>,
    request: Request,
    next: middleware::Next,
) -> axum::response::Response {
    if starts_long_work(request.method(), request.uri().path()) {
        return next.run(request).await;
    }
    tokio::time::timeout(limit, next.run(request))
        .await
        .unwrap_or_else(|_| {
            ApiError::new(
                ErrorCode::RequestTimeout,
                format!(
                    "the request took longer than {} s (limits.request_timeout_secs)",
                    limit.as_secs()
                ),
            )
            .into_response()
        })
}

/// A running server: its address, and the way to stop it.
pub struct Server {
    addr: SocketAddr,
    app: App,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    /// The separate metrics listener (`metrics.access = "open"`): its address
    /// and its task, which ends when the application begins to shut down.
    metrics: Option<(SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>)>,
}

/// Where the separate metrics listener goes, if the configuration asks for
/// one; open metrics without an address of their own are refused.
fn metrics_address(config: &MetricsConfig) -> anyhow::Result<Option<SocketAddr>> {
    match (config.access, config.listen) {
        (MetricsAccess::Open, Some(at)) => Ok(Some(at)),
        (MetricsAccess::Open, None) => Err(anyhow::anyhow!(
            "metrics.access = \"open\" serves metrics without authentication, so only on a \
             separate address: set metrics.listen, e.g. \"127.0.0.1:9090\""
        )),
        (MetricsAccess::Off | MetricsAccess::Token, _) => Ok(None),
    }
}

/// Opens the store, binds the listener and starts serving. `quarry serve` and
/// the integration tests both start Quarry through this.
pub async fn start(config: Config) -> anyhow::Result<Server> {
    start_with(config, None).await
}

/// [`start`] with the store's file operations going through `faults` (the
/// I/O fault tests).
pub async fn start_with(
    config: Config,
    faults: Option<crate::store::faults::Faults>,
) -> anyhow::Result<Server> {
    let listen = config.listen;
    let metrics_at = metrics_address(&config.metrics)?;
    let tls = match (&config.tls.cert, &config.tls.key) {
        (Some(cert), Some(key)) => Some(serve::tls_config(cert, key)?),
        _ => None,
    };
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr()?;
    // The port the system chose for `:0`, for links to this server.
    let mut config = config;
    config.listen = addr;
    let app = tokio::task::spawn_blocking(move || App::open_with(config, faults)).await??;
    let metrics_listener = match metrics_at {
        Some(at) => Some(
            TcpListener::bind(at)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {at} (metrics.listen): {e}"))?,
        ),
        None => None,
    };
    app.follow_changes();
    app.keep_house();
    app.schedule_backups();
    app.deliver_webhooks();
    app.deliver_mail();
    if let Err(error) = crate::control::serve(&app) {
        tracing::warn!(%error, "no control socket: `quarry reindex` and `quarry backup` cannot reach this server");
    }
    let (stop, stopped) = oneshot::channel::<()>();
    let stopped = async {
        let _ = stopped.await;
    };
    let routes = router(app.clone());
    let task = if let Some(tls) = tls {
        let listener = serve::TlsListener::new(listener, tls)?;
        tokio::spawn(serve::serve(listener, routes, stopped))
    } else {
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp: &mut TcpStream| {
            serve::nodelay(tcp);
        });
        tokio::spawn(serve::serve(listener, routes, stopped))
    };
    let metrics = match metrics_listener {
        Some(listener) => {
            let at = listener.local_addr()?;
            let stopping = app.shutting_down();
            let task = tokio::spawn(serve::serve(
                listener,
                metrics::open_router(app.clone()),
                async move { stopping.cancelled().await },
            ));
            tracing::info!(address = %at, "serving metrics without authentication");
            Some((at, task))
        }
        None => None,
    };
    Ok(Server {
        addr,
        app,
        stop,
        task,
        metrics,
    })
}

impl Server {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address the server answers at, as a URL.
    pub fn url(&self) -> String {
        let scheme = if self.app.config().tls.cert.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    /// The address of the separate metrics listener, when there is one.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|(addr, _)| *addr)
    }

    /// Waits for the metrics listener, which stops once shutdown has begun.
    async fn stop_metrics(&mut self) {
        if let Some((_, task)) = self.metrics.take() {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::warn!(%error, "the metrics listener failed"),
                Err(error) => tracing::warn!(%error, "the metrics listener task failed"),
            }
        }
    }

    /// Serves until `signal` resolves, then shuts down gracefully.
    pub async fn run_until(mut self, signal: impl Future<Output = ()>) -> anyhow::Result<()> {
        let ended_alone = tokio::select! {
            () = signal => None,
            served = &mut self.task => Some(served),
        };
        match ended_alone {
            None => self.shutdown().await,
            Some(served) => {
                self.app.close().await;
                self.stop_metrics().await;
                served??;
                Ok(())
            }
        }
    }

    /// Stops accepting connections, lets requests in flight finish, then lets
    /// the writer commit what is queued and closes the store.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        self.app.begin_shutdown();
        self.stop_metrics().await;
        let _ = self.stop.send(());
        let served = self.task.await;
        self.app.close().await;
        // Connections and read tasks finishing in the background still hold
        // the application for a moment; the data file is free once they let go.
        if !self
            .app
            .wait_until_sole_handle(Duration::from_secs(10))
            .await
        {
            tracing::warn!("shutting down with work still holding the store");
        }
        drop(self.app);
        served??;
        Ok(())
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub fn shutdown_signal() -> impl Future<Output = ()> {
    // On unix, registered now, not when first awaited: a signal that comes
    // while the caller still prepares (the demo seeding its shop) is kept
    // for later rather than left to the default action, which would end the
    // process on the spot. Must be called within a runtime.
    #[cfg(unix)]
    let (terminate, interrupt) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |signal: Option<tokio::signal::unix::Signal>| async move {
                match signal {
                    Some(mut signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(terminate) => {}
                () = wait(interrupt) => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down: finishing requests in flight");
    }
}

#[cfg(test)]
mod tests {
    //! The `OpenAPI` document states the rules the API enforces, from the same
    //! declarations: these tests fail when the two part.

    use serde_json::Value;

    fn document() -> Value {
        serde_json::to_value(super::openapi_document()).unwrap()
    }

    /// Follows a `$ref` (or an `oneOf` with `null`) to the schema it names.
    fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
        if let Some(reference) = schema["$ref"].as_str() {
            let name = reference.trim_start_matches("#/components/schemas/");
            let found = &doc["components"]["schemas"][name];
            assert!(!found.is_null(), "{reference} is not in the document");
            return resolve(doc, found);
        }
        if let Some(options) = schema["oneOf"].as_array() {
            if let Some(some) = options.iter().find(|o| o["type"] != "null") {
                return resolve(doc, some);
            }
        }
        schema
    }

    #[test]
    fn line_and_request_counts_are_the_ones_the_api_enforces() {
        let doc = document();
        let schemas = &doc["components"]["schemas"];
        for (schema, field, max) in [
            ("MovementInput", "lines", crate::domain::ledger::MAX_LINES),
            ("QuoteRequest", "lines", crate::app::quotes::MAX_LINES),
            ("EstimateRequest", "lines", crate::app::quotes::MAX_LINES),
            ("BatchRequest", "requests", super::batch::MAX_REQUESTS),
        ] {
            let array = &schemas[schema]["properties"][field];
            assert_eq!(array["minItems"], 1, "{schema}.{field}");
            assert_eq!(array["maxItems"], max, "{schema}.{field}");
        }
    }

    #[test]
    fn every_value_the_api_parses_has_its_pattern_in_the_document() {
        use crate::domain::rules::decimal_pattern;
        use crate::domain::units::Quantity;
        let doc = document();
        let schemas = &doc["components"]["schemas"];
        let pattern = |name: &str| resolve(&doc, &schemas[name])["pattern"].clone();
        assert_eq!(pattern("Sku"), crate::domain::values::Sku::RULE.pattern());
        assert_eq!(
            pattern("LocationCode"),
            crate::domain::locations::LocationCode::RULE.pattern()
        );
        assert_eq!(pattern("Money"), crate::domain::values::Money::PATTERN);
        assert_eq!(
            pattern("Quantity"),
            decimal_pattern(Quantity::MAX_SCALE, true)
        );
        // Every parameter and every string property of a request body that is
        // a value the API parses carries a pattern (or an enum).
        let parsed = [
            "sku",
            "location",
            "code",
            "username",
            "name",
            "number",
            "quantity",
            "unit",
            "Idempotency-Key",
            "Last-Event-ID",
            "from",
            "to",
            "price",
            "cost",
            "password",
            "new_password",
            "user",
            "barcode",
            "reference",
            "note",
            "reason",
            "counted",
        ];
        let mut checked = 0;
        let mut missing = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                for parameter in operation["parameters"].as_array().into_iter().flatten() {
                    let name = parameter["name"].as_str().unwrap();
                    let filters = ["from", "to", "reference", "name"];
                    if parsed.contains(&name) && !(method == "get" && filters.contains(&name)) {
                        checked += 1;
                        let schema = resolve(&doc, &parameter["schema"]);
                        if schema["pattern"].is_null() && schema["enum"].is_null() {
                            missing.push(format!("{method} {path} parameter {name}"));
                        }
                    }
                }
            }
        }
        for (name, schema) in schemas.as_object().unwrap() {
            let Some(properties) = schema["properties"].as_object() else {
                continue;
            };
            if !(name.ends_with("Input")
                || name.ends_with("Request")
                || name.starts_with("New")
                || name.ends_with("Patch")
                || name == "PasswordChange")
            {
                continue;
            }
            for (field, property) in properties {
                if parsed.contains(&field.as_str()) {
                    checked += 1;
                    let property = resolve(&doc, property);
                    if property["type"] == "string"
                        && property["pattern"].is_null()
                        && property["enum"].is_null()
                    {
                        missing.push(format!("{name}.{field}"));
                    }
                }
            }
        }
        assert!(checked > 40, "only {checked} values looked at");
        assert!(missing.is_empty(), "without their rule: {missing:#?}");
    }

    /// Every type in the document under its own name: two types of one name
    /// would be one schema (the last wins, silently), and answers would be
    /// checked against the other's.
    #[test]
    fn no_two_schemas_share_a_name() {
        fn walk(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    let lines: Vec<&str> = text.lines().collect();
                    for (i, line) in lines.iter().enumerate() {
                        if !(line.trim_start().starts_with("#[derive(")
                            && line.contains("ToSchema"))
                        {
                            continue;
                        }
                        let mut alias = None;
                        for next in lines.iter().skip(i + 1).take(12) {
                            let next = next.trim();
                            if let Some(rest) = next.strip_prefix("#[schema(as = ") {
                                alias = rest.split(')').next().map(str::to_owned);
                            }
                            let item = next
                                .strip_prefix("pub struct ")
                                .or_else(|| next.strip_prefix("pub enum "))
                                .or_else(|| next.strip_prefix("struct "));
                            if let Some(item) = item {
                                let name: String = item
                                    .chars()
                                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                                    .collect();
                                let shown = alias.take().unwrap_or(name);
                                out.push((shown, path.display().to_string()));
                                break;
                            }
                        }
                    }
                }
            }
        }
        let mut names = Vec::new();
        walk(
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
            &mut names,
        );
        assert!(names.len() > 100, "only {} schemas found", names.len());
        names.sort();
        let twice: Vec<_> = names
            .windows(2)
            .filter(|pair| pair[0].0 == pair[1].0)
            .map(|pair| format!("{} in {} and {}", pair[0].0, pair[0].1, pair[1].1))
            .collect();
        assert!(twice.is_empty(), "schemas sharing a name: {twice:#?}");
    }
}
