-- vmkeeper HostFencing: Degraded while a selected host is also selected by another
-- HostFencing (Conflict), no host is selected, or some host has no level whose devices all
-- answered the last probe (DevicesReady=False); Healthy while DevicesReady=True; Progressing
-- until the first device health check.

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
  local pending = waiting(true)
  if pending ~= nil then
    return pending
  end
  local conflict = condition("Conflict")
  if conflict ~= nil and conflict.status == "True" then
    return result("Degraded", describe(conflict))
  end
  local selected = condition("HostsSelected")
  if selected ~= nil and selected.status == "False" then
    return result("Degraded", describe(selected))
  end
  local devices = condition("DevicesReady")
  if devices == nil or devices.status == "Unknown" then
    return result("Progressing", "Waiting for the first device health check")
  end
  if devices.status == "False" then
    return result("Degraded", describe(devices))
  end
  return result("Healthy", describe(devices))
end

return health()
