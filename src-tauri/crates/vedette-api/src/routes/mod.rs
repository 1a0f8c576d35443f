//! The routes, one module per area; each handler's first argument is the
//! scope it needs ([`crate::auth::Read`], [`Scan`](crate::auth::Scan),
//! [`Admin`](crate::auth::Admin)), which its OpenAPI `security` repeats.

mod agents;
mod events;
mod feeds;
mod gate;
mod health;
mod hosts;
mod policy;
mod scans;
mod schedules;
pub(crate) mod targets;
mod trends;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiState;

/// Routes that answer without a token.
pub(crate) fn public() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new().routes(routes!(health::health))
}

/// What agents call, each route checking its own bearer (an enrolment
/// token, a node's credential).
pub(crate) fn agents() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(agents::enrol))
        .routes(routes!(agents::heartbeat))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(agents::inventory))
                .layer(axum::extract::DefaultBodyLimit::max(agents::MAX_INVENTORY)),
        )
}

/// Routes behind the token check.
pub(crate) fn protected() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(targets::list, targets::add))
        .routes(routes!(targets::get, targets::remove))
        .routes(routes!(targets::set_exposure))
        .routes(routes!(hosts::add))
        .routes(routes!(hosts::trust_key))
        .routes(routes!(scans::list, scans::start))
        .routes(routes!(scans::get))
        .routes(routes!(scans::report))
        .routes(routes!(scans::diff))
        .routes(routes!(scans::cancel))
        .routes(routes!(schedules::list, schedules::add))
        .routes(routes!(
            schedules::get,
            schedules::update,
            schedules::remove
        ))
        .routes(routes!(schedules::run))
        .routes(routes!(policy::get, policy::replace))
        .routes(routes!(policy::validate))
        .routes(routes!(policy::exceptions, policy::add_exception))
        .routes(routes!(feeds::status))
        .routes(routes!(feeds::update))
        .routes(routes!(trends::trends))
        .routes(routes!(events::events))
        .routes(routes!(gate::nodes))
        .routes(routes!(gate::settings))
        .routes(routes!(gate::dry_run))
        .routes(routes!(gate::actions))
        .routes(routes!(health::metrics))
}
