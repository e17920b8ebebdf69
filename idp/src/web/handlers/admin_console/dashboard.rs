//! /admin/dashboard: the last 30 days of sign-ins, failures, lockouts, recoveries and
//! activations as a chart the server draws as SVG (`admin::chart::svg`, embedded in the page:
//! markup, no script, no inline style), and the mail and logout queue depths. Auditors and
//! admins (`Permission::ReadAudit`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use super::{console_or_return, enter};
use crate::admin::actor::Permission;
use crate::admin::chart::{self, Chart, ChartKind, Series};
use crate::admin::system::{self, DayFigures};
use crate::web::AppState;
use crate::web::browser::Browser;
use crate::web::error::AppError;
use crate::web::pages::View;

#[derive(Serialize)]
struct Total {
    label: String,
    total: i64,
}

#[derive(Serialize)]
struct DashboardPage {
    chart_svg: String,
    totals: Vec<Total>,
    mail_queue: i64,
    logout_queue: i64,
}

/// The day's figure of one series.
type Figure = fn(&DayFigures) -> i64;

/// The series of the chart: catalog key of the label, and the day's figure.
const SERIES: [(&str, Figure); 5] = [
    ("admin_series_sign_ins", |d| d.sign_ins),
    ("admin_series_failures", |d| d.failed_sign_ins),
    ("admin_series_lockouts", |d| d.lockouts),
    ("admin_series_recoveries", |d| d.recoveries),
    ("admin_series_activations", |d| d.activations),
];

pub async fn admin_dashboard_get(State(state): State<AppState>, browser: Browser) -> Result<Response, AppError> {
    let console = console_or_return!(enter(&state, &browser));
    console.require(Permission::ReadAudit)?;
    let figures = system::dashboard_figures(&state.services, &console.actor).await.map_err(|e| console.refusal(e))?;
    let view = View::new(&state, &browser, None, None);
    let series: Vec<Series> = SERIES
        .iter()
        .map(|(key, figure)| Series {
            label: state.text(&view, key),
            values: figures.days.iter().map(figure).collect(),
        })
        .collect();
    let totals = series.iter().map(|s| Total { label: s.label.clone(), total: s.values.iter().sum() }).collect();
    let chart = Chart {
        title: state.text(&view, "admin_dashboard_chart_heading"),
        kind: ChartKind::Bars,
        // `YYYY-MM-DD`, readable in both languages.
        x_labels: figures.days.iter().map(|d| crate::clock::rfc3339(d.day)[..10].to_owned()).collect(),
        series,
    };
    let page = DashboardPage {
        chart_svg: chart::svg(&chart),
        totals,
        mail_queue: figures.mail_queue,
        logout_queue: figures.logout_queue,
    };
    Ok(console.render(&state, &browser, StatusCode::OK, "admin_dashboard.html", "dashboard", &page))
}
