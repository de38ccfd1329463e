//! Black-box tests of the local server over HTTP, each run on the embedded store and on DynamoDB (moto).

/// Runs each named `async fn(TestApp)` once per backend.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(vellum_tests::TestApp::spawn(vellum_tests::Backend::Embedded).await).await;
                }
            )*
        }
        mod aws {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(vellum_tests::TestApp::spawn(vellum_tests::Backend::Aws).await).await;
                }
            )*
        }
    };
}

mod appointments;
mod archive;
mod audit;
mod auth;
mod booking;
mod break_glass;
mod calendar;
mod chart;
mod erasure;
mod exports;
mod faults;
mod feeds;
mod fhir;
mod fhir_import;
mod forms;
mod idempotency;
mod isolation;
mod local_host;
mod malformed;
mod messages;
mod patients;
mod photos;
mod roles;
mod safety;
mod staff;
mod usage;
