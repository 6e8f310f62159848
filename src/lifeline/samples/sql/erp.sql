-- The sample ERP schema (MariaDB / MySQL), captured by Debezium as
-- erp.erp.<table>. Idempotent: safe to apply again.
-- Applied statement by statement: every statement ends with a semicolon at
-- the end of a line, and no comment or string holds one.

CREATE TABLE IF NOT EXISTS customers (
    id                  INT AUTO_INCREMENT PRIMARY KEY,
    customer_no         VARCHAR(20)  NOT NULL,  -- like 'C-1042'
    legal_name          VARCHAR(200) NOT NULL,
    tax_id              VARCHAR(32)  NULL,
    email               VARCHAR(254) NULL,
    phone               VARCHAR(40)  NULL,
    billing_street      VARCHAR(200) NULL,
    billing_city        VARCHAR(100) NULL,
    billing_postal_code VARCHAR(20)  NULL,
    billing_country     CHAR(2)      NULL,
    credit_limit        DECIMAL(12,2) NOT NULL DEFAULT 0,
    status              ENUM('prospect','active','on_hold','closed')
                        NOT NULL DEFAULT 'prospect',
    created_at          DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at          DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
                        ON UPDATE CURRENT_TIMESTAMP(3),
    UNIQUE KEY customers_customer_no (customer_no),
    KEY customers_email (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS orders (
    id          INT AUTO_INCREMENT PRIMARY KEY,
    order_no    VARCHAR(20) NOT NULL,  -- like 'SO-100042'
    customer_id INT NOT NULL,
    status      ENUM('open','confirmed','shipped','cancelled')
                NOT NULL DEFAULT 'open',
    currency    CHAR(3) NOT NULL,
    total       DECIMAL(12,2) NOT NULL DEFAULT 0,
    ordered_at  DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    UNIQUE KEY orders_order_no (order_no),
    CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id)
        REFERENCES customers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS order_lines (
    id          INT AUTO_INCREMENT PRIMARY KEY,
    order_id    INT NOT NULL,
    line_no     INT NOT NULL,
    sku         VARCHAR(40) NOT NULL,
    description VARCHAR(200) NULL,
    quantity    DECIMAL(12,3) NOT NULL,
    unit_price  DECIMAL(12,2) NOT NULL,
    UNIQUE KEY order_lines_order_line (order_id, line_no),
    CONSTRAINT order_lines_order_fk FOREIGN KEY (order_id) REFERENCES orders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS invoices (
    id          INT AUTO_INCREMENT PRIMARY KEY,
    invoice_no  VARCHAR(20) NOT NULL,  -- like 'INV-2024-000042'
    customer_id INT NOT NULL,
    order_id    INT NULL,
    status      ENUM('draft','posted','paid','void') NOT NULL DEFAULT 'draft',
    currency    CHAR(3) NOT NULL,
    amount      DECIMAL(12,2) NOT NULL,
    issued_on   DATE NOT NULL,
    due_on      DATE NOT NULL,
    posted_at   DATETIME(3) NULL,
    UNIQUE KEY invoices_invoice_no (invoice_no),
    CONSTRAINT invoices_customer_fk FOREIGN KEY (customer_id)
        REFERENCES customers (id),
    CONSTRAINT invoices_order_fk FOREIGN KEY (order_id) REFERENCES orders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS payments (
    id             INT AUTO_INCREMENT PRIMARY KEY,
    invoice_id     INT NOT NULL,
    amount         DECIMAL(12,2) NOT NULL,
    status         ENUM('received','failed','refunded') NOT NULL,
    method         VARCHAR(20) NOT NULL,  -- card, sepa_debit, bank_transfer
    failure_reason VARCHAR(200) NULL,
    paid_at        DATETIME(3) NOT NULL,
    CONSTRAINT payments_invoice_fk FOREIGN KEY (invoice_id)
        REFERENCES invoices (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS subscriptions (
    id           INT AUTO_INCREMENT PRIMARY KEY,
    customer_id  INT NOT NULL,
    product_code VARCHAR(40) NOT NULL,  -- what it entitles to, like 'SW-3001'
    plan_code    VARCHAR(40) NOT NULL,  -- like 'standard', 'pro'
    seats        INT NOT NULL DEFAULT 1,
    status       ENUM('active','cancelled','expired') NOT NULL DEFAULT 'active',
    starts_on    DATE NOT NULL,
    ends_on      DATE NULL,  -- last day of the current term, NULL: open-ended
    renewed_at   DATETIME(3) NULL,  -- when the term was last renewed
    updated_at   DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
                 ON UPDATE CURRENT_TIMESTAMP(3),
    KEY subscriptions_customer (customer_id),
    CONSTRAINT subscriptions_customer_fk FOREIGN KEY (customer_id)
        REFERENCES customers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
