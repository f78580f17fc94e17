-- A notice is resolved once its line is allocated after all: the order page then stops
-- showing it as waiting, even if staff later cancel the line.
ALTER TABLE out_of_stock_notices ADD COLUMN resolved INTEGER NOT NULL DEFAULT 0;
