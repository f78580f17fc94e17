-- Applies read-model updates atomically. ARGV[1] is the key prefix, then one group of
-- seven values per update: kind, id, four fields and who made it (see
-- `Update::arguments`).
--
-- Updates may arrive twice or out of order (after a commit and again from the relay;
-- from several servers), so each one takes effect only where it is newer than what it
-- would replace: ids grow with the commits of each product, and every key below holds
-- data of one product only. Running totals move with the line they count, in the same
-- step, so they always agree with the lines.

local p = ARGV[1] .. ':'
local US = '\31'

local function batch(id, ref, sku, eta, qty, by)
  local key = p .. 'batch:' .. ref
  if sku ~= '' and redis.call('HSETNX', key, 'sku', sku) == 1 then
    redis.call('HSET', key, 'eta', eta)
    redis.call('SADD', p .. 'batches', ref)
    redis.call('SADD', p .. 'sku-batches:' .. sku, ref)
    redis.call('SADD', p .. 'skus', sku)
  end
  local applied = tonumber(redis.call('HGET', key, 'purchased_id') or '0')
  if tonumber(id) > applied then
    redis.call('HSET', key, 'purchased', qty, 'purchased_id', id, 'changed_by', by)
  end
end

-- A line's state is "last update id US last allocation id US batch ('' when none)".
local function line(id, orderid, sku, qty, ref, by)
  local lines = p .. 'lines'
  local field = orderid .. US .. sku .. US .. qty
  local last, allocated, old = '0', '0', ''
  local state = redis.call('HGET', lines, field)
  if state then
    last, allocated, old = string.match(state, '^(%d+)' .. US .. '(%d+)' .. US .. '(.*)$')
  end
  -- An allocation resolves the line's earlier out-of-stock notices, whenever it lands.
  if ref ~= '' and tonumber(id) > tonumber(allocated) then
    allocated = id
  end
  if tonumber(id) > tonumber(last) then
    if old ~= '' then
      redis.call('HINCRBY', p .. 'batch:' .. old, 'allocated', '-' .. qty)
      redis.call('ZREM', p .. 'batch-lines:' .. old, orderid .. US .. qty)
      redis.call('ZREM', p .. 'order-lines:' .. orderid, sku .. US .. qty .. US .. old)
    end
    if ref ~= '' then
      redis.call('HINCRBY', p .. 'batch:' .. ref, 'allocated', qty)
      redis.call('ZADD', p .. 'batch-lines:' .. ref, id, orderid .. US .. qty)
      redis.call('ZADD', p .. 'order-lines:' .. orderid, id, sku .. US .. qty .. US .. ref)
      redis.call('HSET', p .. 'line-by', field, by)
    else
      redis.call('HDEL', p .. 'line-by', field)
    end
    last, old = id, ref
  end
  redis.call('HSET', lines, field, last .. US .. allocated .. US .. old)
end

local function notice(id, orderid, sku, qty, noticed_at)
  local member = id .. US .. orderid .. US .. sku .. US .. qty .. US .. noticed_at
  redis.call('ZADD', p .. 'notices', id, member)
  redis.call('ZADD', p .. 'order-notices:' .. orderid, id, member)
end

local apply = { batch = batch, line = line, notice = notice }
for i = 2, #ARGV, 7 do
  apply[ARGV[i]](ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6])
end
