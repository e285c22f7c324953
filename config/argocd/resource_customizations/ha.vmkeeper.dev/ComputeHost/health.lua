-- vmkeeper ComputeHost (written by the operator, not kept in git): Suspended in maintenance;
-- Degraded when fenced, when its health is Failed or Degraded, or when no fencing level can
-- fence it (Fenceable=False); Progressing while Suspect or not yet assessed; else Healthy.

local function condition(conditionType)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

local function describe(c)
  local text = c.reason or c.type
  if c.message ~= nil and c.message ~= "" then
    text = text .. ": " .. c.message
  end
  return text
end

-- The operator has processed the current spec: status.observedGeneration, or a condition's
-- observedGeneration, equals metadata.generation. Kinds whose spec the operator writes itself
-- (strict = false) are only checked when they carry an observedGeneration.
local function observed(strict)
  local generation = obj.metadata and obj.metadata.generation
  if generation == nil or obj.status.observedGeneration == generation then
    return true
  end
  if not strict and obj.status.observedGeneration == nil then
    return true
  end
  for _, c in ipairs(obj.status.conditions or {}) do
    if c.observedGeneration == generation then
      return true
    end
  end
  return false
end

local function result(status, message)
  return { status = status, message = message }
end

local function waiting(strict)
  if obj.status == nil then
    return result("Progressing", "Waiting for the operator to report status")
  end
  if not observed(strict) then
    return result("Progressing", "Waiting for the operator to observe generation " .. tostring(obj.metadata.generation))
  end
  return nil
end

local function health()
  local pending = waiting(false)
  if pending ~= nil then
    return pending
  end
  local maintenance = condition("Maintenance")
  if maintenance ~= nil and maintenance.status == "True" then
    return result("Suspended", describe(maintenance))
  end
  local fenced = condition("Fenced")
  if fenced ~= nil and fenced.status == "True" then
    return result("Degraded", describe(fenced))
  end
  local state = obj.status.health and obj.status.health.state
  local healthy = condition("Healthy")
  local why = state
  if healthy ~= nil then
    why = describe(healthy)
  end
  if state == "Failed" or state == "Degraded" then
    return result("Degraded", why)
  end
  if state == nil or state == "Unknown" or state == "Suspect" then
    return result("Progressing", why or "Waiting for the first health assessment")
  end
  local fenceable = condition("Fenceable")
  if fenceable ~= nil and fenceable.status == "False" then
    return result("Degraded", describe(fenceable))
  end
  return result("Healthy", why)
end

return health()
