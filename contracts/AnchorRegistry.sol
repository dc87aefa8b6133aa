// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title AnchorRegistry
/// @notice Public, append-only record of the Merkle roots of an Archive Seal center's sealed
/// periods. Each root names the root before it, so the chain itself refuses a forked or
/// rewritten history: a period can be anchored once, only after every earlier one, and only
/// on top of the root anchored last.
/// @dev Storage is kept to what `anchor` must touch: one packed slot (owner + latest period id)
/// and one new mapping slot per period. The last root is read back from the mapping instead of
/// being stored twice, which saves a cold SSTORE on every anchor.
contract AnchorRegistry {
    /// @notice The caller is not the owner.
    error AnchorRegistryNotOwner(address caller);
    /// @notice The caller is not the pending owner proposed by `transferOwnership`.
    error AnchorRegistryNotPendingOwner(address caller);
    /// @notice An owner cannot be the zero address.
    error AnchorRegistryZeroOwner();
    /// @notice A root of 32 zero bytes would be indistinguishable from "not anchored".
    error AnchorRegistryZeroRoot();
    /// @notice This period already holds a root; roots are never replaced.
    error AnchorRegistryPeriodAlreadyAnchored(uint64 periodId);
    /// @notice Period ids must be strictly greater than the latest anchored one (and at least 1).
    error AnchorRegistryPeriodNotIncreasing(uint64 periodId, uint64 latest);
    /// @notice `previousRoot` must equal the root anchored last (zero before the first anchor).
    error AnchorRegistryPreviousRootMismatch(bytes32 expected, bytes32 given);

    /// @notice A period's root was recorded. Emitted right after the state change.
    event PeriodAnchored(uint64 indexed periodId, bytes32 root, bytes32 previousRoot);
    /// @notice The owner proposed `newOwner`; nothing changes until `newOwner` accepts.
    event OwnershipTransferStarted(address indexed previousOwner, address indexed newOwner);
    /// @notice Ownership moved (also emitted once at deployment, from the zero address).
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    // Packed into one slot so `anchor` reads the owner and the latest id with a single cold SLOAD
    // and updates the id with a warm SSTORE.
    address private _owner;
    uint64 private _latestPeriod;
    address private _pendingOwner;
    mapping(uint64 periodId => bytes32 root) private _roots;

    /// @param initialOwner The center's account, the only one allowed to anchor.
    constructor(address initialOwner) {
        if (initialOwner == address(0)) revert AnchorRegistryZeroOwner();
        _owner = initialOwner;
        emit OwnershipTransferred(address(0), initialOwner);
    }

    /// @notice Records `root` as the Merkle root of period `periodId`.
    /// @dev Strictly increasing ids make a second anchor of the same period impossible; the
    /// explicit `AnchorRegistryPeriodAlreadyAnchored` is only computed on the failure path.
    /// @param periodId The period's sequential id; greater than `latestPeriod()`.
    /// @param root The period's Merkle root; not zero.
    /// @param previousRoot Must equal `lastRoot()` (bytes32(0) before the first anchor).
    function anchor(uint64 periodId, bytes32 root, bytes32 previousRoot) external {
        address owner_ = _owner;
        uint64 latest = _latestPeriod;
        if (msg.sender != owner_) revert AnchorRegistryNotOwner(msg.sender);
        if (root == bytes32(0)) revert AnchorRegistryZeroRoot();
        if (periodId <= latest) {
            if (_roots[periodId] != bytes32(0)) revert AnchorRegistryPeriodAlreadyAnchored(periodId);
            revert AnchorRegistryPeriodNotIncreasing(periodId, latest);
        }
        bytes32 last = _roots[latest];
        if (previousRoot != last) revert AnchorRegistryPreviousRootMismatch(last, previousRoot);

        _roots[periodId] = root;
        _latestPeriod = periodId;
        emit PeriodAnchored(periodId, root, previousRoot);
    }

    /// @notice Starts handing the registry to `newOwner` (for example a rotated center key).
    /// The current owner keeps its rights until `newOwner` calls `acceptOwnership`, so a
    /// mistyped address cannot lock the registry. Passing the zero address cancels a pending
    /// transfer.
    /// @param newOwner The proposed owner.
    function transferOwnership(address newOwner) external {
        if (msg.sender != _owner) revert AnchorRegistryNotOwner(msg.sender);
        _pendingOwner = newOwner;
        emit OwnershipTransferStarted(msg.sender, newOwner);
    }

    /// @notice Completes a transfer started by `transferOwnership`; callable only by the
    /// pending owner. The previous owner loses every right at once.
    function acceptOwnership() external {
        if (msg.sender != _pendingOwner) revert AnchorRegistryNotPendingOwner(msg.sender);
        address previous = _owner;
        _owner = msg.sender;
        delete _pendingOwner;
        emit OwnershipTransferred(previous, msg.sender);
    }

    /// @notice The root anchored for `periodId`, or bytes32(0) if none.
    /// @param periodId The period's id.
    /// @return The period's root.
    function rootOf(uint64 periodId) external view returns (bytes32) {
        return _roots[periodId];
    }

    /// @notice The id of the period anchored last, or 0 before the first anchor.
    /// @return The latest period id.
    function latestPeriod() external view returns (uint64) {
        return _latestPeriod;
    }

    /// @notice The root anchored last, or bytes32(0) before the first anchor; the value the next
    /// `anchor` call must pass as `previousRoot`.
    /// @return The last root.
    function lastRoot() external view returns (bytes32) {
        return _roots[_latestPeriod];
    }

    /// @notice The account allowed to anchor.
    /// @return The owner.
    function owner() external view returns (address) {
        return _owner;
    }

    /// @notice The account proposed by `transferOwnership`, or the zero address.
    /// @return The pending owner.
    function pendingOwner() external view returns (address) {
        return _pendingOwner;
    }
}
