-- The bookstore's data: 1000 items and 1000 orders.
CREATE TABLE item (id int PRIMARY KEY, title text NOT NULL, author text NOT NULL,
                   price numeric(8, 2) NOT NULL);
CREATE TABLE orders (id serial PRIMARY KEY, item_id int NOT NULL, qty int NOT NULL,
                     status text NOT NULL, created timestamptz NOT NULL DEFAULT now());
INSERT INTO item SELECT i, (ARRAY['Alpha','Beta','Gamma','Delta','Omega','Sigma'])[1 + i % 6] || ' ' || i,
                        'Author ' || (i % 97), 5 + (i % 50)
                   FROM generate_series(1, 1000) AS i;
INSERT INTO orders (item_id, qty, status) SELECT 1 + i % 1000, 1 + i % 3, 'shipped'
                   FROM generate_series(1, 1000) AS i;
GRANT ALL ON item, orders, orders_id_seq TO bookstore;
