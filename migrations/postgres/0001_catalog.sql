-- Products mirrored from catalog.toml at start (the file is the source of
-- truth; the table lets SQL join and report on products).
CREATE TABLE products (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    currency TEXT NOT NULL,
    monthly_from_minor BIGINT NOT NULL,
    catalog_version INTEGER NOT NULL
);

-- Free trials started from the product list (walking-skeleton slice).
CREATE TABLE trial_requests (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_code TEXT NOT NULL REFERENCES products(code),
    created_at TEXT NOT NULL
);
CREATE INDEX trial_requests_product ON trial_requests(product_code);
