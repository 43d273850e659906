//! A fresh PostgreSQL database per test. The test command (`.ci/test.sh`) makes a PostgreSQL
//! answer on 127.0.0.1:5432 (trust authentication, user `postgres`); `IDREVIEW_TEST_PG_URL`
//! names another server to use instead. A test that needs one fails, loudly, when none
//! answers: it never passes by skipping.

use tokio_postgres::NoTls;

/// The variable naming the server (a connection string with a database to connect to first).
pub const URL_VAR: &str = "IDREVIEW_TEST_PG_URL";

/// The server the test command provides.
const DEFAULT_URL: &str = "host=127.0.0.1 port=5432 user=postgres dbname=postgres";

/// A database of its own for one test, dropped (with its connections) when the test ends.
pub struct TestDb {
    admin: tokio_postgres::Config,
    name: String,
}

impl TestDb {
    /// Creates a database named `idreview_test_<random>` on the test server.
    pub async fn new() -> TestDb {
        let url = std::env::var(URL_VAR).unwrap_or_else(|_| DEFAULT_URL.to_string());
        Self::on(&url).await
    }

    /// [`TestDb::new`] on the server at `url`.
    pub async fn on(url: &str) -> TestDb {
        let admin: tokio_postgres::Config = url
            .parse()
            .unwrap_or_else(|e| panic!("{URL_VAR} is not a connection string: {e}"));
        let client = connect(&admin).await;
        let mut random = [0u8; 8];
        getrandom::fill(&mut random).expect("randomness");
        let name = format!("idreview_test_{}", hex::encode(random));
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("cannot create the test database {name}: {e}"));
        TestDb { admin, name }
    }

    /// The connection configuration of the test's database.
    pub fn config(&self) -> tokio_postgres::Config {
        let mut config = self.admin.clone();
        config.dbname(&self.name);
        config
    }

    /// The test's database as a connection string (libpq's `key=value` form), for a daemon's
    /// `[store] url`.
    pub fn url(&self) -> String {
        let config = self.config();
        let mut url = format!("dbname={}", self.name);
        if let Some(tokio_postgres::config::Host::Tcp(host)) = config.get_hosts().first() {
            url.push_str(&format!(" host={host}"));
        }
        if let Some(port) = config.get_ports().first() {
            url.push_str(&format!(" port={port}"));
        }
        if let Some(user) = config.get_user() {
            url.push_str(&format!(" user={user}"));
        }
        if let Some(password) = config.get_password() {
            url.push_str(&format!(" password={}", String::from_utf8_lossy(password)));
        }
        url
    }

    /// A plain connection to the test's database (for checks the store has no call for).
    pub async fn client(&self) -> tokio_postgres::Client {
        connect(&self.config()).await
    }
}

/// A connection to `config`'s server, or a panic saying how to get one.
async fn connect(config: &tokio_postgres::Config) -> tokio_postgres::Client {
    match config.connect(NoTls).await {
        Ok((client, connection)) => {
            tokio::spawn(connection);
            client
        }
        Err(e) => panic!(
            "no PostgreSQL answers for the tests ({e}). These tests need one: run them through \
             .ci/test.sh, which starts one on 127.0.0.1:5432 when none answers, or set \
             {URL_VAR} to a server where this user may create databases"
        ),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // A runtime of its own: the test's may be shutting down.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                let (client, connection) = admin.connect(NoTls).await?;
                tokio::spawn(connection);
                client
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
            })
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("could not drop the test database {}: {e}", self.name);
        }
    }
}
