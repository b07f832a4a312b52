/// A response that ends a page early (not found, catalog unavailable), as the failure of a `Result`.
struct ConsoleFailure: Error {
    let response: ConsoleResponse
}
